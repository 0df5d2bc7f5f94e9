using PerkSharp.Adapters;
using PerkSharp.Data;
using PerkSharp.Generation;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>
/// The test-time API (docs/DESIGN.md, encode once / ask many): a frozen base model, its tokenizer and the
/// meta-learned parameters. <see cref="Encode"/> runs the inner loop without any graph (learned step sizes, weighting
/// model, micro-batch accumulation, dropout as configured) and returns the adapted fast weights as a
/// <see cref="PerkMemory"/>; <see cref="Answer(PerkMemory, string, int)"/> greedy-decodes under that memory with the
/// context not in the prompt. Also builds the training tensors of an example for <see cref="MetaLearner"/>.
/// </summary>
public sealed class PerkSystem
{
    public PerkSystem(CausalLM model, ITokenizer tokenizer, MetaParameters meta, string baseModelNameOrPath = "")
    {
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new PerkException($"tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary is {model.Config.VocabSize}");
        Model = model; Tokenizer = tokenizer; Meta = meta; BaseModelNameOrPath = baseModelNameOrPath;
    }

    public CausalLM Model { get; }
    public ITokenizer Tokenizer { get; }
    public MetaParameters Meta { get; }
    public PerkSettings Settings => Meta.Settings;
    public string BaseModelNameOrPath { get; }

    int Vocab => Model.Config.VocabSize;
    int MaxPositions => Model.Config.MaxPositionEmbeddings;

    /// <summary>
    /// The memory <see cref="Encode"/> may use (<see cref="EncodeMemory"/>): it then runs each micro-batch in parts of
    /// as many segments as fit. Null: no budget, each micro-batch in one forward/backward.
    /// </summary>
    public MemoryBudget? Budget { get; set; }

    /// <summary>Where <see cref="Encode"/> shows its progress and ETA (null: silent).</summary>
    public TextWriter? EncodeProgress { get; set; }

    /// <summary>
    /// Adapts the LoRA to the context (sequential doc ids, <paramref name="accumulation"/> micro-batches per step,
    /// default the test-time setting). <paramref name="dropout"/> defaults to the official behaviour (on). Parts are
    /// built one at a time, within <see cref="Budget"/> when one is set; a context that does not fit even one segment
    /// at a time is refused in one line before the inner loop starts.
    /// </summary>
    public PerkMemory Encode(IReadOnlyList<string> segments, int? accumulation = null, bool? dropout = null)
    {
        var seqs = PerkBatcher.Context(segments, Tokenizer, Vocab, MaxPositions, shuffle: null);
        var parts = Parts(seqs, accumulation ?? Settings.TestAccumulation, EncodeMemory.DocumentBytes(segments));
        int steps = Settings.InnerSteps, perStep = parts.PartsPerStep;
        using var bar = EncodeProgress is { } w ? new Progress("encode", (long)steps * perStep, w) : null;
        long done = 0;
        if (bar != null) parts.PartDone = () => { done++; bar.Advance($"inner step {Math.Min(steps, done / perStep + 1)}/{steps}"); };
        using var scope = NewDisposeScope();
        InnerLoopResult result;
        try { result = InnerLoop.Run(Model, Meta, parts, dropout ?? Settings.TrainDropout); }
        catch (NonFiniteLossException) { throw new PerkException("encoding diverged: the inner loss became NaN or Inf (lower the inner learning rate)"); }
        using (result)
        {
            foreach (var t in result.FastWeights)
                if (!t.isfinite().all().ToBoolean()) throw new PerkException("encoding diverged: the adapted weights contain NaN or Inf");
            return new PerkMemory(Meta.Lora, result.FastWeights, segments.Count, result.Losses);
        }
    }

    /// <summary>The parts one inner step runs: whole micro-batches without a budget, else as many segments as fit.</summary>
    public ContextParts Parts(IReadOnlyList<TokenizedSequence> seqs, int accumulation, long documentBytes)
    {
        int rows = Budget is null ? int.MaxValue
            : EncodeMemory.RowsPerPart(Budget, Model, Settings, seqs, accumulation, documentBytes);
        return new ContextParts(seqs, accumulation, Settings.Packing, Tokenizer.PadId, Settings.PackedNormalization, rows);
    }

    /// <summary>Greedy answer (temperature 0) to one question under the memory; at most <paramref name="maxNewTokens"/> tokens.</summary>
    public string Answer(PerkMemory memory, string question, int maxNewTokens = 512) =>
        Answer(memory, new[] { question }, maxNewTokens)[0];

    /// <summary>Greedy answers to several questions under one memory (batched, left-padded prompts).</summary>
    public IReadOnlyList<string> Answer(PerkMemory memory, IReadOnlyList<string> questions, int maxNewTokens = 512)
    {
        if (maxNewTokens < 1) throw new PerkException($"max new tokens must be >= 1 (got {maxNewTokens})");
        if (questions.Count == 0) return Array.Empty<string>();
        var prompts = questions.Select(q => (IReadOnlyList<int>)PerkBatcher.Prompt(memory.NumDocuments, q, Tokenizer, Vocab, MaxPositions)).ToList();
        int room = MaxPositions - prompts.Max(p => p.Count);
        if (room < 1) throw new PerkException($"question prompt fills the model's {MaxPositions} positions; no room to answer");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Model.eval();
        var generator = new GreedyGenerator(Model, Tokenizer);
        var outputs = generator.Generate(prompts, Math.Min(maxNewTokens, room), memory.State());
        return outputs.Select(ids => Tokenizer.Decode(ids)).ToList();
    }

    /// <summary>The answer loss (mean CE over target tokens) of a question/answer pair under a memory, for logging.</summary>
    public double AnswerLoss(PerkMemory memory, string question, string answer, IReadOnlyList<string>? support = null)
    {
        var seq = PerkBatcher.Question(memory.NumDocuments, question, answer, support, Tokenizer, Vocab, MaxPositions);
        using var batch = PerkBatcher.Separate(new[] { seq }, Tokenizer.PadId);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Model.eval();
        var output = Model.forward(batch.ToInput(memory.State()));
        return Losses.AnswerLoss(output.Logits, batch.Labels).ToDouble();
    }

    /// <summary>
    /// The training tensors of one example: context micro-batches (ids permuted when <paramref name="shuffle"/> is
    /// given; <see cref="PerkSettings.TrainAccumulation"/> chunks) and the question/answer batch. Caller disposes.
    /// </summary>
    public (List<TokenBatch> Context, TokenBatch Question) TrainingTensors(PerkExample example, Random? shuffle)
    {
        var seqs = PerkBatcher.Context(example.Context, Tokenizer, Vocab, MaxPositions, shuffle);
        var q = PerkBatcher.Question(example.Context.Count, example.Question, example.Answer, example.Support, Tokenizer, Vocab, MaxPositions);
        var ctx = PerkBatcher.MicroBatches(seqs, Settings.TrainAccumulation, Settings.Packing, Tokenizer.PadId, Settings.PackedNormalization);
        return (ctx, PerkBatcher.Separate(new[] { q }, Tokenizer.PadId));
    }

    /// <summary>
    /// The training tensors of a batch of examples (batched meta-steps): context micro-batches holding every example's
    /// segments (its own doc-id permutation from <paramref name="shuffles"/>) and one question row per example.
    /// </summary>
    public (List<TokenBatch> Context, TokenBatch Question) TrainingTensors(IReadOnlyList<PerkExample> examples, IReadOnlyList<Random?> shuffles)
    {
        if (examples.Count == 1) return TrainingTensors(examples[0], shuffles[0]);
        var ctx = examples.Select((ex, i) => (IReadOnlyList<TokenizedSequence>)PerkBatcher.Context(ex.Context, Tokenizer, Vocab, MaxPositions, shuffles[i])).ToList();
        var qs = examples.Select(ex => PerkBatcher.Question(ex.Context.Count, ex.Question, ex.Answer, ex.Support, Tokenizer, Vocab, MaxPositions)).ToList();
        return (PerkBatcher.BatchedMicroBatches(ctx, Settings.TrainAccumulation, Settings.Packing, Tokenizer.PadId, Settings.PackedNormalization),
                PerkBatcher.BatchedQuestions(qs, Tokenizer.PadId));
    }

    /// <summary>
    /// Encodes several contexts in one batched inner loop (each example with its own fast weights, exactly as
    /// <see cref="Encode"/> would alone, up to float rounding). Returns one memory per context.
    /// </summary>
    public List<PerkMemory> EncodeBatch(IReadOnlyList<IReadOnlyList<string>> contexts, int? accumulation = null, bool? dropout = null)
    {
        if (contexts.Count == 1) return new List<PerkMemory> { Encode(contexts[0], accumulation, dropout) };
        var seqs = contexts.Select(c => (IReadOnlyList<TokenizedSequence>)PerkBatcher.Context(c, Tokenizer, Vocab, MaxPositions, shuffle: null)).ToList();
        // Over the budget together: one at a time, each within it (a batch has no parts).
        if (Budget != null && !EncodeMemory.BatchFits(Budget, Model, Settings, seqs, accumulation ?? Settings.TestAccumulation,
                                                      contexts.Sum(EncodeMemory.DocumentBytes)))
        {
            var each = new List<PerkMemory>(contexts.Count);
            try { foreach (var c in contexts) each.Add(Encode(c, accumulation, dropout)); }
            catch { foreach (var m in each) m.Dispose(); throw; }
            return each;
        }
        var batches = PerkBatcher.BatchedMicroBatches(seqs, accumulation ?? Settings.TestAccumulation, Settings.Packing, Tokenizer.PadId, Settings.PackedNormalization);
        try
        {
            using var scope = NewDisposeScope();
            InnerLoopResult result;
            try { result = InnerLoop.Run(Model, Meta, batches, InnerLoopMode.Evaluation, dropout ?? Settings.TrainDropout); }
            catch (NonFiniteLossException) { throw new PerkException("encoding diverged: the inner loss became NaN or Inf (lower the inner learning rate)"); }
            using (result)
            {
                var memories = new List<PerkMemory>(contexts.Count);
                for (int e = 0; e < contexts.Count; e++)
                {
                    var slice = result.FastWeights.Select(t => t[e]).ToList();
                    if (slice.Any(t => !t.isfinite().all().ToBoolean()))
                        throw new PerkException("encoding diverged: the adapted weights contain NaN or Inf");
                    memories.Add(new PerkMemory(Meta.Lora, slice, contexts[e].Count, result.Losses));
                }
                return memories;
            }
        }
        finally { foreach (var b in batches) b.Dispose(); }
    }

    /// <summary>Greedy answers, question i under memory i, decoded as one batch (per-example LoRA).</summary>
    public IReadOnlyList<string> AnswerBatch(IReadOnlyList<PerkMemory> memories, IReadOnlyList<string> questions, int maxNewTokens = 512)
    {
        if (memories.Count != questions.Count) throw new ArgumentException("one question per memory");
        if (memories.Count == 1) return new[] { Answer(memories[0], questions[0], maxNewTokens) };
        if (maxNewTokens < 1) throw new PerkException($"max new tokens must be >= 1 (got {maxNewTokens})");
        var prompts = questions.Select((q, i) => (IReadOnlyList<int>)PerkBatcher.Prompt(memories[i].NumDocuments, q, Tokenizer, Vocab, MaxPositions)).ToList();
        int room = MaxPositions - prompts.Max(p => p.Count);
        if (room < 1) throw new PerkException($"question prompt fills the model's {MaxPositions} positions; no room to answer");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Model.eval();
        var outputs = new GreedyGenerator(Model, Tokenizer).Generate(prompts, Math.Min(maxNewTokens, room), StackedState(memories));
        return outputs.Select(ids => Tokenizer.Decode(ids)).ToList();
    }

    /// <summary>Answer loss of example i under memory i (one batched forward), for validation.</summary>
    public double[] AnswerLossBatch(IReadOnlyList<PerkMemory> memories, IReadOnlyList<PerkExample> examples)
    {
        if (memories.Count == 1) return new[] { AnswerLoss(memories[0], examples[0].Question, examples[0].Answer, examples[0].Support) };
        var seqs = examples.Select((ex, i) => PerkBatcher.Question(memories[i].NumDocuments, ex.Question, ex.Answer, ex.Support, Tokenizer, Vocab, MaxPositions)).ToList();
        using var batch = PerkBatcher.BatchedQuestions(seqs, Tokenizer.PadId);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Model.eval();
        var output = Model.forward(batch.ToInput(StackedState(memories)));
        return Enumerable.Range(0, memories.Count)
            .Select(i => Losses.AnswerLoss(output.Logits.narrow(0, i, 1), batch.Labels.narrow(0, i, 1)).ToDouble()).ToArray();
    }

    /// <summary>A LoRA state with every memory's fast weights stacked on a leading example axis.</summary>
    LoraState StackedState(IReadOnlyList<PerkMemory> memories) =>
        Meta.Lora.State(Enumerable.Range(0, Meta.Lora.Count).Select(j => stack(memories.Select(m => m.FastWeights[j]).ToArray())).ToList(), training: false);
}
