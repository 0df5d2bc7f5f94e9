using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Training;

/// <summary>Size and schedule of the tiny base model `perk pretrain` trains from scratch.</summary>
public sealed record PretrainOptions
{
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

    public void Validate()
    {
        if (Layers < 1 || Hidden < 8 || Heads < 1 || Hidden % Heads != 0)
            throw new PerkException($"pretrain: need layers >= 1, hidden >= 8 divisible by heads (got {Layers}/{Hidden}/{Heads})");
        if (Window < 8 || Positions < Window) throw new PerkException($"pretrain: need 8 <= window ({Window}) <= positions ({Positions})");
        if (Steps < 1 || BatchSize < 1 || !(LearningRate > 0)) throw new PerkException("pretrain: steps, batch size and learning rate must be positive");
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
    public static ModelConfig Config(PretrainOptions o, ITokenizer tok) => new()
    {
        ModelType = "gpt2", Architectures = new[] { "GPT2LMHeadModel" }, VocabSize = tok.VocabSize, HiddenSize = o.Hidden,
        NumHiddenLayers = o.Layers, NumAttentionHeads = o.Heads, NumKeyValueHeads = o.Heads, IntermediateSize = 4 * o.Hidden,
        MaxPositionEmbeddings = o.Positions, HeadDim = o.Hidden / o.Heads, HiddenAct = "gelu_new", TieWordEmbeddings = true,
        AttentionBias = true, MlpBias = true, BosTokenId = tok.BosId ?? tok.EosId, EosTokenId = tok.EosId, PadTokenId = tok.PadId,
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
    public static CausalLM Train(int[] stream, ITokenizer tok, PretrainOptions o, Action<int, double>? onStep = null, IReadOnlyList<int>? longStarts = null,
                                 Action<int>? onWindow = null)
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
            bool longWindow = o.LongWindowEvery > 0 && step >= o.Steps / 2 && step % o.LongWindowEvery == o.LongWindowEvery - 1;
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
            var x = all[.., ..t];
            var y = all[.., 1..];
            var output = model.forward(new LMInput(x));
            var loss = nn.functional.cross_entropy(output.Logits.reshape(-1, output.Logits.shape[2]), y.reshape(-1));
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
        }
        opt.zero_grad();
        foreach (var p in ps) p.requires_grad = false;
        model.eval();
        return model;
    }

    /// <summary>Linear warmup then cosine decay to 10% of the peak.</summary>
    static double Schedule(int step, int warmup, int total) =>
        step < warmup ? (step + 1) / (double)warmup
            : 0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, total - warmup)));
}
