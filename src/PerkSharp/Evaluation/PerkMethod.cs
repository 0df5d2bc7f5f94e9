using System.Diagnostics;
using PerkSharp.Data;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;

namespace PerkSharp.Evaluation;

/// <summary>
/// PERK at test time (docs/DESIGN.md) in the evaluation harness: <see cref="PerkSystem.Encode"/> adapts the
/// meta-learned LoRA to the context (learned rates, token weights, no graph), then <see cref="PerkSystem.Answer(PerkMemory, string, int)"/>
/// greedy-decodes from the question prompt alone. The same class is the test-time fine-tuning baseline (TTFT,
/// Temp-LoRA/LIFT style) when the system holds fresh, un-meta-learned parameters with a fixed rate and uniform weights.
/// </summary>
public sealed class PerkMethod : IEvalMethod
{
    readonly int _maxNewTokens;

    public PerkMethod(PerkSystem system, int maxNewTokens, string name = "perk")
    {
        System = system; _maxNewTokens = maxNewTokens; Name = name;
    }

    public PerkSystem System { get; }
    public string Name { get; }

    public MethodAnswer Answer(PerkExample ex)
    {
        string prompt = PerkFormat.QuestionPrompt(ex.Context.Count, ex.Question);
        int tokens = ex.Context.Sum(s => System.Tokenizer.CountTokens(s));
        var sw = Stopwatch.StartNew();
        PerkMemory memory;
        try { memory = System.Encode(ex.Context); }
        catch (PerkException e) when (e.Message.StartsWith("encoding diverged", StringComparison.Ordinal))
        {
            return new MethodAnswer(prompt, "", sw.Elapsed.TotalMilliseconds, 0, tokens);   // scored as wrong, run goes on
        }
        double encodeMs = sw.Elapsed.TotalMilliseconds;
        using (memory)
        {
            sw.Restart();
            string raw = System.Answer(memory, ex.Question, _maxNewTokens);
            return new MethodAnswer(prompt, OutputText.Clean(System.Tokenizer, raw), encodeMs, sw.Elapsed.TotalMilliseconds, tokens);
        }
    }

    /// <summary>The answer loss after test-time adaptation (the official val_loss); NaN when encoding diverges.</summary>
    public double AnswerLossAfterAdaptation(PerkExample ex)
    {
        PerkMemory memory;
        try { memory = System.Encode(ex.Context); }
        catch (PerkException e) when (e.Message.StartsWith("encoding diverged", StringComparison.Ordinal)) { return double.NaN; }
        using (memory) return System.AnswerLoss(memory, ex.Question, ex.Answer, ex.Support);
    }

    /// <summary>
    /// Several examples at once: one batched encode (each example its own fast weights) and one batched decode. The
    /// encode and answer times are the batch's, shared equally. If the batch diverges, its examples are redone alone.
    /// </summary>
    public IReadOnlyList<MethodAnswer> AnswerBatch(IReadOnlyList<PerkExample> examples)
    {
        if (examples.Count == 1) return new[] { Answer(examples[0]) };
        var sw = Stopwatch.StartNew();
        List<PerkMemory> memories;
        try { memories = System.EncodeBatch(examples.Select(e => (IReadOnlyList<string>)e.Context).ToList()); }
        catch (PerkException e) when (e.Message.StartsWith("encoding diverged", StringComparison.Ordinal))
        {
            return examples.Select(Answer).ToList();
        }
        double encodeMs = sw.Elapsed.TotalMilliseconds / examples.Count;
        try
        {
            sw.Restart();
            var raw = System.AnswerBatch(memories, examples.Select(e => e.Question).ToList(), _maxNewTokens);
            double answerMs = sw.Elapsed.TotalMilliseconds / examples.Count;
            return examples.Select((ex, i) => new MethodAnswer(PerkFormat.QuestionPrompt(ex.Context.Count, ex.Question),
                OutputText.Clean(System.Tokenizer, raw[i]), encodeMs, answerMs, ex.Context.Sum(s => System.Tokenizer.CountTokens(s)))).ToList();
        }
        finally { foreach (var m in memories) m.Dispose(); }
    }

    /// <summary>Answer losses after adaptation for several examples (batched); NaN for an example whose encoding diverges.</summary>
    public double[] AnswerLossesAfterAdaptation(IReadOnlyList<PerkExample> examples)
    {
        if (examples.Count == 1) return new[] { AnswerLossAfterAdaptation(examples[0]) };
        List<PerkMemory> memories;
        try { memories = System.EncodeBatch(examples.Select(e => (IReadOnlyList<string>)e.Context).ToList()); }
        catch (PerkException e) when (e.Message.StartsWith("encoding diverged", StringComparison.Ordinal))
        {
            return examples.Select(AnswerLossAfterAdaptation).ToArray();
        }
        try { return System.AnswerLossBatch(memories, examples); }
        finally { foreach (var m in memories) m.Dispose(); }
    }
}
