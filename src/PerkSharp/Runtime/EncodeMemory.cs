using System.Text;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Runtime;

/// <summary>
/// The peak resident memory of a test-time encode, estimated from the model config, and the largest part (segments
/// per forward/backward, <see cref="ContextParts"/>) a <see cref="MemoryBudget"/> allows. The estimate is
/// fixed + part:
/// <list type="bullet">
/// <item>fixed = runtime (.NET, libtorch, tokenizer: <see cref="RuntimeBytes"/>) + the model's weights + the document
///   held as text, segments and token ids (<see cref="DocumentFactor"/> bytes per byte of UTF-8 text);</item>
/// <item>part = <see cref="Safety"/> · (T·k + 1) · activations, N = rows · L tokens, e = 4 bytes (bf16 is counted as
///   fp32, since the LoRA path, softmax and losses stay fp32):
///   <list type="bullet">
///   <item>LM head and loss: 4 · N · V · 4 (logits, their shifted copy, log-softmax and its gradient, all fp32);</item>
///   <item>layers: 4 · n_layers · N · (2H + I) · e (normed inputs, q/k/v, MLP activations, LoRA inputs, gradients);</item>
///   <item>attention: (1.5 · n_layers + 4.5) · rows · heads · L² · 4 (scores, masked scores and probabilities of the
///     explicit attention, saved per layer, plus the backward's; a packed part is one row of all its tokens).</item>
///   </list>
///   T is the number of second-order (create_graph) steps, whose graphs over all k micro-batches stay alive until the
///   outer backward; test time has T = 0: its inner loop takes detached first-order gradients and frees each part's
///   graph before the next part (<see cref="InnerLoop"/>).</item>
/// </list>
/// The coefficients are least-squares fits of the VmHWM growth of about 130 one-part inner steps of random GPT-2 and
/// Qwen2 shapes (V 257-12000, H 64-256, 1-4 layers, 2-8 heads, L 128-512, 1-128 rows; bf16 measured 0.7-1.0 times
/// fp32, packed parts within the fit). Whole encodes (4 inner steps, 10 parts each, segment lengths varying by a
/// quarter, 14 shapes) peaked at 1.2-2.5 times the fit: freed blocks of different sizes are not all reused by the
/// next part, and huge pages round up; <see cref="Safety"/> covers that.
/// </summary>
public static class EncodeMemory
{
    /// <summary>Resident size of `perk encode` with the libraries and a tiny model loaded, before any encode (measured).</summary>
    public const long RuntimeBytes = 256L << 20;

    /// <summary>Bytes held per byte of document text: UTF-16 text and segments, token ids, transient splits (measured).</summary>
    public const double DocumentFactor = 8;

    /// <summary>Margin over the fitted activations: the largest ratio of a whole encode's peak to the fit.</summary>
    public const double Safety = 2.5;

    /// <summary>Activation bytes of one forward/backward over <paramref name="rows"/> rows of <paramref name="rowTokens"/> tokens.</summary>
    public static long Part(ModelConfig c, long rows, long rowTokens, int secondOrderSteps = 0, int chunks = 1)
    {
        double n = (double)rows * rowTokens;
        double logits = 4.0 * n * c.VocabSize * 4;
        double layers = 4.0 * c.NumHiddenLayers * n * (2.0 * c.HiddenSize + c.IntermediateSize) * 4;
        double attention = (1.5 * c.NumHiddenLayers + 4.5) * rows * c.NumAttentionHeads * (double)rowTokens * rowTokens * 4;
        double graphs = secondOrderSteps * (double)chunks + 1;
        return (long)Math.Min(long.MaxValue / 4, Safety * graphs * (logits + layers + attention));
    }

    /// <summary>Runtime, weights and the document (see the class summary).</summary>
    public static long Fixed(long weightBytes, long documentBytes) => RuntimeBytes + weightBytes + (long)(DocumentFactor * documentBytes);

    /// <summary>UTF-8 bytes of the segments (what the document file holds, give or take the separators).</summary>
    public static long DocumentBytes(IReadOnlyList<string> segments) => segments.Sum(s => (long)Encoding.UTF8.GetByteCount(s ?? ""));

    /// <summary>Bytes of a loaded model's parameters and buffers.</summary>
    public static long WeightBytes(CausalLM model) =>
        model.parameters().Concat(model.buffers()).Sum(t => t.numel() * t.element_size());

    /// <summary>Bytes of a model folder's weight files (before loading it): the *.safetensors in it.</summary>
    public static long WeightBytes(string modelDir) =>
        Directory.EnumerateFiles(modelDir, "*.safetensors").Sum(f => new FileInfo(f).Length);

    /// <summary>
    /// Segments per part under <paramref name="budget"/>: unbounded (whole micro-batches, exactly as without a budget)
    /// when the largest micro-batch fits, else the largest power of two that fits (powers of two, so that small
    /// changes of a default budget rarely change the parts). A one-line error when one segment does not fit.
    /// </summary>
    public static int RowsPerPart(MemoryBudget budget, CausalLM model, PerkSettings s, IReadOnlyList<TokenizedSequence> seqs,
                                  int accumulation, long documentBytes)
    {
        var c = model.Config;
        long room = budget.Bytes - Fixed(WeightBytes(model), documentBytes);
        var chunks = PerkBatcher.Chunks(seqs, accumulation);
        long Cost(IReadOnlyList<TokenizedSequence> part) => s.Packing
            ? Part(c, 1, part.Sum(q => (long)q.Ids.Length))
            : Part(c, part.Count, part.Max(q => q.Ids.Length));
        if (chunks.All(ch => Cost(ch) <= room)) return int.MaxValue;
        // Worst case of a part of r segments: the r longest segments of the context.
        var longest = seqs.OrderByDescending(q => q.Ids.Length).ToList();
        long one = Cost(longest.Take(1).ToList());
        if (one > room) throw new PerkException(TooLarge(budget, budget.Bytes - room + one, budget.Bytes - room, one, longest[0].Ids.Length));
        int maxChunk = chunks.Max(ch => ch.Count), rows = 1;
        while (rows * 2 < maxChunk && Cost(longest.Take(rows * 2).ToList()) <= room) rows *= 2;
        return rows;
    }

    /// <summary>Whether several contexts fit the budget as one batched encode (their micro-batches side by side).</summary>
    public static bool BatchFits(MemoryBudget budget, CausalLM model, PerkSettings s, IReadOnlyList<IReadOnlyList<TokenizedSequence>> contexts,
                                 int accumulation, long documentBytes)
    {
        var chunks = contexts.Select(x => PerkBatcher.Chunks(x, accumulation)).ToList();
        long rowsPerExample = chunks.Max(ch => ch.Max(c => s.Packing ? 1 : c.Count));
        long length = s.Packing ? chunks.Max(ch => ch.Max(c => c.Sum(q => (long)q.Ids.Length)))
                                : contexts.Max(x => x.Max(q => q.Ids.Length));
        long need = Fixed(WeightBytes(model), documentBytes) + Part(model.Config, contexts.Count * rowsPerExample, length);
        return need <= budget.Bytes;
    }

    /// <summary>
    /// Before the model loads: refuses a document that cannot fit even one segment of <paramref name="segmentTokens"/>
    /// tokens at a time (one line). <paramref name="documentBytes"/> 0 checks the model alone.
    /// </summary>
    public static void CheckFits(MemoryBudget budget, ModelConfig c, long weightBytes, long documentBytes, int segmentTokens, string what)
    {
        long fixedBytes = Fixed(weightBytes, documentBytes), one = Part(c, 1, segmentTokens);
        if (fixedBytes + one > budget.Bytes) throw new PerkException(what + ": " + TooLarge(budget, fixedBytes + one, fixedBytes, one, segmentTokens));
    }

    static string TooLarge(MemoryBudget budget, long need, long fixedBytes, long one, long tokens) =>
        $"needs about {MemoryBudget.Format(need)} even one segment at a time ({MemoryBudget.Format(fixedBytes)} for the runtime, " +
        $"model and document, {MemoryBudget.Format(one)} for one {tokens}-token segment) but the memory budget is {budget}; " +
        "raise --max-memory or encode a shorter document";
}
