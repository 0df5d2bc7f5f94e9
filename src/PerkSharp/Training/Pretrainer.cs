using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Training;

/// <summary>Size and schedule of the tiny base model `perk pretrain` trains from scratch.</summary>
public sealed record PretrainOptions
{
    /// <summary>"gpt2" (learned absolute positions) or "llama" (rotary positions, RMSNorm, SwiGLU).</summary>
    public string Arch { get; init; } = "gpt2";
    public int Layers { get; init; } = 2;
    public int Hidden { get; init; } = 64;
    public int Heads { get; init; } = 2;
    /// <summary>n_positions; also the longest training window, so every position embedding is trained.</summary>
    public int Positions { get; init; } = 1536;
    /// <summary>Tokens per training window (windows are cut from the concatenated corpus at random offsets).</summary>
    public int Window { get; init; } = 128;
    /// <summary>In the second half of training, every this many steps a window of the full <see cref="Positions"/> length is used instead.</summary>
    public int LongWindowEvery { get; init; } = 4;
    public int BatchSize { get; init; } = 16;
    public int Steps { get; init; } = 600;
    public double LearningRate { get; init; } = 3e-3;
    public double WeightDecay { get; init; } = 0.01;
    public int Seed { get; init; } = 1;
    /// <summary>In-context drills added to the corpus (QuickstartData.Drills); part of the recipe, so a change retrains.</summary>
    public int Drills { get; init; } = 4000;
    /// <summary>
    /// In-context drills with the BabiLong haystack (<see cref="LongDrillLength"/> of training-book prose around the
    /// facts, QuickstartData.LongDrills). When there are any, every full-length window starts at one of them, so that
    /// the whole context, the question and the answer are in the window: reading past the haystack is only learnable
    /// from windows that hold all three.
    /// </summary>
    public int LongDrills { get; init; }
    public string LongDrillLength { get; init; } = "1k";
    /// <summary>Segment size of the long drills' contexts (the quickstart's 128).</summary>
    public int DrillSegmentTokens { get; init; } = 128;
    /// <summary>
    /// initializer_range (std of the normal init). GPT-2's 0.02 is for width 768; at width 64 it left the copy task
    /// at chance for 300 steps of 16 windows, while 0.12 solved it (loss 0.08): attention needs large enough q·k.
    /// </summary>
    public double InitStd { get; init; } = 0.12;
    /// <summary>
    /// Reading drills: in-context BabiLong examples (haystack, question, tagged answer) trained with the loss on the
    /// answer only (QuickstartData.ReadingDrills). Why: as plain text in the LM stream, about 15 answer tokens in 1,100
    /// tokens of prose left the base unable to read a 1k context; supervised, the answer is the whole signal.
    /// </summary>
    public int ReadingDrills { get; init; }
    /// <summary>BabiLong lengths of the reading drills, cycled (e.g. "0k,1k": facts alone teach the logic, 1k the search).</summary>
    public string ReadingLengths { get; init; } = "0k,1k";
    /// <summary>Reading batches start at this fraction of the steps (after the LM has formed its heads).</summary>
    public double ReadingFrom { get; init; } = 0.3;
    /// <summary>From <see cref="ReadingFrom"/> on, every this many steps is a reading batch.</summary>
    public int ReadingEvery { get; init; } = 2;
    /// <summary>Reading drills per reading batch.</summary>
    public int ReadingBatch { get; init; } = 8;

    /// <summary>
    /// The recipe text (pretrain_recipe.txt): every option, but the architecture and the reading drills only when they
    /// are on, so the recipes of bases pretrained before those options existed (the shipped one) still match.
    /// </summary>
    bool PrintMembers(System.Text.StringBuilder b)
    {
        b.Append($"Layers = {Layers}, Hidden = {Hidden}, Heads = {Heads}, Positions = {Positions}, Window = {Window}, LongWindowEvery = {LongWindowEvery}, ");
        b.Append($"BatchSize = {BatchSize}, Steps = {Steps}, LearningRate = {LearningRate}, WeightDecay = {WeightDecay}, Seed = {Seed}, Drills = {Drills}, ");
        b.Append($"LongDrills = {LongDrills}, LongDrillLength = {LongDrillLength}, DrillSegmentTokens = {DrillSegmentTokens}, InitStd = {InitStd}");
        if (Arch != "gpt2") b.Append($", Arch = {Arch}");
        if (ReadingDrills > 0)
            b.Append($", ReadingDrills = {ReadingDrills}, ReadingLengths = {ReadingLengths}, ReadingFrom = {ReadingFrom}, ReadingEvery = {ReadingEvery}, ReadingBatch = {ReadingBatch}");
        return true;
    }

    public void Validate()
    {
        if (Arch is not ("gpt2" or "llama")) throw new PerkException($"pretrain: --arch {Arch} is not one of gpt2, llama");
        if (Layers < 1 || Hidden < 8 || Heads < 1 || Hidden % Heads != 0)
            throw new PerkException($"pretrain: need layers >= 1, hidden >= 8 divisible by heads (got {Layers}/{Hidden}/{Heads})");
        if (Window < 8 || Positions < Window) throw new PerkException($"pretrain: need 8 <= window ({Window}) <= positions ({Positions})");
        if (Steps < 1 || BatchSize < 1 || !(LearningRate > 0)) throw new PerkException("pretrain: steps, batch size and learning rate must be positive");
        if (ReadingDrills < 0 || ReadingEvery < 1 || ReadingBatch < 1 || !(ReadingFrom >= 0 && ReadingFrom < 1))
            throw new PerkException("pretrain: reading drills must be >= 0, reading every/batch >= 1 and reading-from in [0, 1)");
    }
}

/// <summary>
/// Trains a tiny GPT-2 (HF GPT2LMHeadModel layout) from scratch with next-token cross-entropy and AdamW (cosine
/// schedule, 5% warmup, clip 1.0) on a token stream of documents separated by end-of-text. Random windows are a pure
/// function of (seed, step). The model is returned with its parameters frozen again, ready to save or adapt.
/// </summary>
public static class Pretrainer
{
    /// <summary>The config of the tiny model for a tokenizer.</summary>
    public static ModelConfig Config(PretrainOptions o, ITokenizer tok) => o.Arch == "llama" ? LlamaConfig(o, tok) : new()
    {
        ModelType = "gpt2", Architectures = new[] { "GPT2LMHeadModel" }, VocabSize = tok.VocabSize, HiddenSize = o.Hidden,
        NumHiddenLayers = o.Layers, NumAttentionHeads = o.Heads, NumKeyValueHeads = o.Heads, IntermediateSize = 4 * o.Hidden,
        MaxPositionEmbeddings = o.Positions, HeadDim = o.Hidden / o.Heads, HiddenAct = "gelu_new", TieWordEmbeddings = true,
        AttentionBias = true, MlpBias = true, BosTokenId = tok.BosId ?? tok.EosId, EosTokenId = tok.EosId, PadTokenId = tok.PadId,
        Extra = new System.Text.Json.Nodes.JsonObject { ["initializer_range"] = o.InitStd },
    };

    /// <summary>
    /// A tiny Llama: rotary positions make a previous-token or induction head one pattern for every offset, where
    /// learned absolute positions must learn it separately at each of the 1,536 positions.
    /// </summary>
    static ModelConfig LlamaConfig(PretrainOptions o, ITokenizer tok) => new()
    {
        ModelType = "llama", Architectures = new[] { "LlamaForCausalLM" }, VocabSize = tok.VocabSize, HiddenSize = o.Hidden,
        NumHiddenLayers = o.Layers, NumAttentionHeads = o.Heads, NumKeyValueHeads = o.Heads, IntermediateSize = 3 * o.Hidden,
        MaxPositionEmbeddings = o.Positions, HeadDim = o.Hidden / o.Heads, HiddenAct = "silu", TieWordEmbeddings = true,
        RopeTheta = 10000, RmsNormEps = 1e-5, AttentionBias = false, MlpBias = false,
        BosTokenId = tok.BosId ?? tok.EosId, EosTokenId = tok.EosId, PadTokenId = tok.PadId,
        Extra = new System.Text.Json.Nodes.JsonObject { ["initializer_range"] = o.InitStd },
    };

    /// <summary>Concatenates documents into one id stream, each followed by end-of-text.</summary>
    public static int[] Stream(IEnumerable<string> documents, ITokenizer tok) => Stream(documents, tok, out _);

    /// <summary>As <see cref="Stream(IEnumerable{string}, ITokenizer)"/>, with the offset where each document starts.</summary>
    public static int[] Stream(IEnumerable<string> documents, ITokenizer tok, out int[] starts)
    {
        var ids = new List<int>();
        var s = new List<int>();
        foreach (var d in documents) { s.Add(ids.Count); ids.AddRange(tok.Encode(d)); ids.Add(tok.EosId); }
        starts = s.ToArray();
        return ids.ToArray();
    }

    /// <param name="longStarts">Stream offsets where full-length windows start (the long drills); null = anywhere.</param>
    /// <param name="onStep">Called after each step with (step, loss) — for progress and logs.</param>
    /// <param name="onWindow">Called with each window's start offset (tests check where windows are cut).</param>
    /// <param name="reading">Supervised reading drills (ids, prompt length): the loss covers ids[promptLength..] only.</param>
    public static CausalLM Train(int[] stream, ITokenizer tok, PretrainOptions o, Action<int, double>? onStep = null, IReadOnlyList<int>? longStarts = null,
                                 Action<int>? onWindow = null, IReadOnlyList<(int[] Ids, int PromptLength)>? reading = null,
                                 Action<int, CausalLM>? onProbe = null, int probeEvery = 0)
    {
        o.Validate();
        if (stream.Length < o.Positions + 1) throw new PerkException($"pretrain: corpus has {stream.Length} tokens, fewer than one window of {o.Positions + 1}");
        var model = ModelFactory.Create(Config(o, tok), seed: o.Seed);
        var ps = model.parameters().ToList();
        foreach (var p in ps) p.requires_grad = true;
        model.train();
        var decay = ps.Where(p => p.dim() >= 2).ToList();
        var noDecay = ps.Where(p => p.dim() < 2).ToList();
        using var opt = optim.AdamW(new[]
        {
            new TorchSharp.Modules.AdamW.ParamGroup(decay, o.LearningRate, 0.9, 0.95, 1e-8, o.WeightDecay, false, false),
            new TorchSharp.Modules.AdamW.ParamGroup(noDecay, o.LearningRate, 0.9, 0.95, 1e-8, 0, false, false),
        }, o.LearningRate);
        int warmup = Math.Max(1, o.Steps / 20);
        var rng = new Random(o.Seed);                                  // window offsets; the run is not resumable by design (minutes)
        for (int step = 0; step < o.Steps; step++)
        {
            using var scope = NewDisposeScope();
            // Full-length windows only in the second half: mixed in from step 0 they kept the tiny model from forming
            // position-based heads at all (copy-task loss at chance after 600 steps); added once those exist, they
            // only teach the far positions.
            bool readingStep = reading is { Count: > 0 } && step >= (int)(o.Steps * o.ReadingFrom) && step % o.ReadingEvery == 0;
            bool longWindow = !readingStep && o.LongWindowEvery > 0 && step >= o.Steps / 2 && step % o.LongWindowEvery == o.LongWindowEvery - 1;
            var (x, y) = readingStep ? ReadingBatch(reading!, o.ReadingBatch, rng, tok) : Windows(stream, o, longWindow, longStarts, rng, onWindow);
            var output = model.forward(new LMInput(x));
            var loss = nn.functional.cross_entropy(output.Logits.reshape(-1, output.Logits.shape[2]), y.reshape(-1), ignore_index: -100);
            double value = loss.item<float>();
            double lr = o.LearningRate * Schedule(step, warmup, o.Steps);
            foreach (var g in opt.ParamGroups) g.LearningRate = lr;
            opt.zero_grad();
            if (double.IsFinite(value))
            {
                loss.backward();
                nn.utils.clip_grad_norm_(ps, 1.0);
                opt.step();
            }
            onStep?.Invoke(step + 1, value);
            if (onProbe != null && probeEvery > 0 && (step + 1) % probeEvery == 0 && step + 1 < o.Steps)
            {
                model.eval();
                onProbe(step + 1, model);
                model.train();
            }
        }
        opt.zero_grad();
        foreach (var p in ps) p.requires_grad = false;
        model.eval();
        return model;
    }

    /// <summary>Random windows of the stream: inputs [b, t] and next-token labels [b, t].</summary>
    static (Tensor X, Tensor Y) Windows(int[] stream, PretrainOptions o, bool longWindow, IReadOnlyList<int>? longStarts, Random rng, Action<int>? onWindow)
    {
        int t = longWindow ? o.Positions : o.Window;
        int b = longWindow ? Math.Max(1, o.BatchSize * o.Window / o.Positions) : o.BatchSize;
        var batch = new long[b * (t + 1)];
        for (int r = 0; r < b; r++)
        {
            int start = longWindow && longStarts is { Count: > 0 }
                ? Math.Min(longStarts[rng.Next(longStarts.Count)], stream.Length - t - 1)
                : rng.Next(0, stream.Length - t - 1);
            onWindow?.Invoke(start);
            for (int j = 0; j <= t; j++) batch[r * (t + 1) + j] = stream[start + j];
        }
        var all = tensor(batch, new long[] { b, t + 1 });
        return (all[.., ..t], all[.., 1..]);
    }

    /// <summary>
    /// A batch of reading drills, right-padded (causal attention never lets a real position see the padding): inputs
    /// [b, T] and labels [b, T] that are -100 (ignored) everywhere but on the answer's tokens.
    /// </summary>
    internal static (Tensor X, Tensor Y) ReadingBatch(IReadOnlyList<(int[] Ids, int PromptLength)> reading, int b, Random rng, ITokenizer tok)
    {
        var rows = Enumerable.Range(0, b).Select(_ => reading[rng.Next(reading.Count)]).ToList();
        int t = rows.Max(r => r.Ids.Length) - 1;
        long pad = tok.PadId;
        var x = new long[b * t];
        var y = new long[b * t];
        for (int r = 0; r < b; r++)
        {
            var (ids, promptLength) = rows[r];
            for (int j = 0; j < t; j++)
            {
                x[r * t + j] = j < ids.Length - 1 ? ids[j] : pad;
                y[r * t + j] = j + 1 < ids.Length && j + 1 >= promptLength ? ids[j + 1] : -100;
            }
        }
        return (tensor(x, new long[] { b, t }), tensor(y, new long[] { b, t }));
    }

    /// <summary>
    /// Teacher-forced reading score of <paramref name="model"/> on drills: mean answer loss per token, and the share
    /// of drills whose every answer token is the argmax (a strict stand-in for greedy exact match).
    /// </summary>
    public static (double Loss, double Exact) ReadingScore(CausalLM model, IReadOnlyList<(int[] Ids, int PromptLength)> drills)
    {
        double lossSum = 0; long tokens = 0; int exact = 0;
        using var _ = no_grad();
        foreach (var (ids, promptLength) in drills)
        {
            using var scope = NewDisposeScope();
            var x = tensor(ids[..^1].Select(i => (long)i).ToArray(), new long[] { 1, ids.Length - 1 });
            var logits = model.forward(new LMInput(x)).Logits[0, (promptLength - 1)..];            // [answer tokens, vocab]
            var gold = tensor(ids[promptLength..].Select(i => (long)i).ToArray());
            lossSum += nn.functional.cross_entropy(logits, gold, reduction: nn.Reduction.Sum).item<float>();
            tokens += gold.shape[0];
            if (logits.argmax(1).eq(gold).all().item<bool>()) exact++;
        }
        return (lossSum / Math.Max(1, tokens), exact / (double)Math.Max(1, drills.Count));
    }

    /// <summary>Linear warmup then cosine decay to 10% of the peak.</summary>
    static double Schedule(int step, int warmup, int total) =>
        step < warmup ? (step + 1) / (double)warmup
            : 0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, total - warmup)));
}
