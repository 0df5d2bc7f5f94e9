using System.Diagnostics;
using PerkSharp.Data;
using PerkSharp.Runtime;

namespace PerkSharp.Evaluation;

/// <summary>What one method produced for one example.</summary>
/// <param name="Prompt">The exact text the model was prompted with (PERK: question only; in-context methods: context too).</param>
/// <param name="Output">The decoded answer.</param>
/// <param name="EncodeMs">Time spent turning the context into the method's memory.</param>
/// <param name="AnswerMs">Time spent answering (prefill + greedy decoding).</param>
/// <param name="ContextTokens">Tokens of the context as this method's tokenizer counts them.</param>
public sealed record MethodAnswer(string Prompt, string Output, double EncodeMs, double AnswerMs, int ContextTokens);

/// <summary>A way to answer a question about a long context: PERK, FT-ICR, TTFT, BM25 + in-context, ...</summary>
public interface IEvalMethod
{
    /// <summary>Name in outputs and tables ("perk", "ft_icr", "ttft", "bm25").</summary>
    string Name { get; }

    MethodAnswer Answer(PerkExample example);

    /// <summary>Several examples (methods that can batch override this; the results equal one-by-one answers).</summary>
    IReadOnlyList<MethodAnswer> AnswerBatch(IReadOnlyList<PerkExample> examples) => examples.Select(Answer).ToList();
}

/// <summary>Scores a decoded response against the gold target: (EM, F1) as the official evaluation does (SubEM is always <see cref="PerkMetrics.SubExactMatch"/>).</summary>
public delegate (double Em, double F1) Scorer(string prediction, string target);

/// <summary>
/// Runs one method over examples and writes <c>outputs.jsonl</c> and <c>metrics.json</c> into a folder. Every row is
/// evaluated once (the official code samples with replacement; docs/DATA.md says a port should not).
/// </summary>
public static class EvalHarness
{
    /// <param name="seed">Seeds libtorch before example i (or the batch starting at i) with (seed, i), so dropout during adaptation is reproducible.</param>
    /// <param name="batchSize">Examples answered together (<see cref="IEvalMethod.AnswerBatch"/>); 1 = one at a time.</param>
    /// <param name="onFailure">
    /// When given, an example that cannot be evaluated (a one-line <see cref="PerkException"/>, e.g. a question longer
    /// than the model's window) is reported with its index and skipped, and the others are scored; a failing batch
    /// is retried one by one so only the bad rows are lost. When null, the first failure ends the run.
    /// </param>
    /// <param name="start">First example to evaluate (a batch start): the earlier ones are done (`perk eval --resume`).</param>
    /// <param name="onBatch">After each batch, with the batch's first index and its records (failures were reported before).</param>
    public static List<EvalRecord> Run(IEvalMethod method, IReadOnlyList<PerkExample> examples, Scorer score, string? outDir,
        string? label = null, TextWriter? progressOut = null, int seed = 0, int batchSize = 1, Action<int, PerkException>? onFailure = null,
        int start = 0, Action<int, IReadOnlyList<EvalRecord>>? onBatch = null)
    {
        if (start % batchSize != 0 && start < examples.Count) throw new ArgumentException($"start {start} is not a batch start", nameof(start));
        var records = new List<EvalRecord>(examples.Count);
        using var bar = new Progress(label ?? $"eval {method.Name}", examples.Count - start, progressOut);
        double emSum = 0;
        var answers = new List<MethodAnswer?>();
        int batchFirst = records.Count;
        for (int i = start; i < examples.Count; i++)
        {
            var ex = examples[i];
            if (i % batchSize == 0)
            {
                TorchSharp.torch.manual_seed(Training.DataOrder.StepSeed(seed, i));
                var batch = examples.Skip(i).Take(batchSize).ToList();
                answers = Answer(method, batch, i, onFailure);
                batchFirst = records.Count;
            }
            if (answers[i % batchSize] is not { } a) { bar.Advance("failed"); BatchDone(i); continue; }
            string target = PerkFormat.Target(ex.Answer, ex.Support);
            var (em, f1) = score(a.Output, target);
            emSum += em;
            records.Add(new EvalRecord
            {
                Guid = ex.Id, Method = method.Name, Task = TaskName(ex), Length = ex.Length,
                Position = ex.Position ?? GoldPosition(ex), Prompt = a.Prompt, Answer = target, Output = a.Output,
                Em = em, F1 = f1, SubEm = PerkMetrics.SubExactMatch(a.Output, target), EncodeMs = Math.Round(a.EncodeMs, 3), AnswerMs = Math.Round(a.AnswerMs, 3),
                ContextTokens = a.ContextTokens, Segments = ex.Context.Count,
            });
            bar.Advance($"EM {emSum / records.Count:0.000}");
            BatchDone(i);
        }
        if (outDir != null)
        {
            Directory.CreateDirectory(outDir);
            EvalRecord.WriteAll(Path.Combine(outDir, "outputs.jsonl"), records);
            EvalSummary.Write(Path.Combine(outDir, "metrics.json"), records);
        }
        return records;

        void BatchDone(int i)
        {
            if (onBatch != null && (i % batchSize == batchSize - 1 || i == examples.Count - 1))
                onBatch(i - i % batchSize, records.GetRange(batchFirst, records.Count - batchFirst));
        }
    }

    static List<MethodAnswer?> Answer(IEvalMethod method, List<PerkExample> batch, int first, Action<int, PerkException>? onFailure)
    {
        List<MethodAnswer?> All() => (batch.Count == 1 ? new[] { method.Answer(batch[0]) } : method.AnswerBatch(batch)).Select(a => (MethodAnswer?)a).ToList();
        if (onFailure == null) return All();
        try { return All(); }
        catch (PerkException) when (batch.Count > 1) { }
        catch (PerkException e) { onFailure(first, e); return new List<MethodAnswer?> { null }; }
        var list = new List<MethodAnswer?>();
        for (int k = 0; k < batch.Count; k++)
        {
            try { list.Add(method.Answer(batch[k])); }
            catch (PerkException e) { onFailure(first + k, e); list.Add(null); }
        }
        return list;
    }

    /// <summary>"babilong/qa1" → "qa1"; other tasks keep their name.</summary>
    public static string TaskName(PerkExample ex)
    {
        string t = ex.Task.Length > 0 ? ex.Task : "task";
        int slash = t.LastIndexOf('/');
        return slash >= 0 ? t[(slash + 1)..] : t;
    }

    /// <summary>
    /// For examples without an explicit position (BabiLong): where the last support fact sits in the context, as
    /// the quarter of the segment list holding it ("q1" = first quarter ... "q4" = last); "n/a" when not found.
    /// </summary>
    public static string GoldPosition(PerkExample ex)
    {
        if (ex.Support is not { Count: > 0 } || ex.Context.Count == 0) return "n/a";
        string fact = ex.Support[^1];
        for (int i = 0; i < ex.Context.Count; i++)
            if (ex.Context[i].Contains(fact, StringComparison.Ordinal))
                return "q" + (1 + Math.Min(3, i * 4 / ex.Context.Count));
        return "n/a";
    }

    /// <summary>Measures a phase in milliseconds.</summary>
    public static T Time<T>(Func<T> f, out double ms)
    {
        var sw = Stopwatch.StartNew();
        var r = f();
        ms = sw.Elapsed.TotalMilliseconds;
        return r;
    }
}
