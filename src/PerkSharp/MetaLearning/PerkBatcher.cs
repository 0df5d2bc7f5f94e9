using PerkSharp.Data;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>
/// Segments and questions → token sequences and tensors (docs/DESIGN.md). Context segment i becomes
/// "doc_{id}:" (loss-masked) + " {text}" + end-of-text, ids permuted in training and sequential at test time. The
/// question becomes the PerkFormat prompt (masked) + " {target}" + end-of-text. Ids and lengths are validated here so
/// that nothing out of range reaches native code. End-of-text is appended as an id (not parsed from text).
/// </summary>
public static class PerkBatcher
{
    /// <summary>Tokenizes context segments. <paramref name="shuffle"/> non-null permutes the doc ids (training).</summary>
    public static List<TokenizedSequence> Context(IReadOnlyList<string> segments, ITokenizer tokenizer, int vocabSize,
                                                  int maxPositions, Random? shuffle = null)
    {
        if (segments.Count == 0) throw new PerkException("context: an example needs at least one segment (got none)");
        var ids = PerkFormat.DocIds(segments.Count, shuffle);
        var result = new List<TokenizedSequence>(segments.Count);
        for (int i = 0; i < segments.Count; i++)
        {
            var prompt = tokenizer.Encode(PerkFormat.SegmentPrompt(ids[i]));
            var completion = tokenizer.Encode(PerkFormat.SegmentCompletion(segments[i] ?? "", ""));
            var seq = prompt.Concat(completion).Append(tokenizer.EosId).ToArray();
            Check(seq, vocabSize, maxPositions, $"context segment {i}");
            result.Add(new TokenizedSequence(seq, prompt.Count));
        }
        return result;
    }

    /// <summary>Tokenizes the outer sequence: prompt (masked) + " target" + end-of-text (the loss covers the completion).</summary>
    public static TokenizedSequence Question(int numDocuments, string question, string answer, IReadOnlyList<string>? support,
                                             ITokenizer tokenizer, int vocabSize, int maxPositions)
    {
        var prompt = tokenizer.Encode(PerkFormat.QuestionPrompt(numDocuments, question ?? ""));
        var completion = tokenizer.Encode(PerkFormat.AnswerCompletion(answer ?? "", support, ""));
        var seq = prompt.Concat(completion).Append(tokenizer.EosId).ToArray();
        Check(seq, vocabSize, maxPositions, "question and answer");
        return new TokenizedSequence(seq, prompt.Count);
    }

    /// <summary>Token ids of the question prompt alone (for generation).</summary>
    public static int[] Prompt(int numDocuments, string question, ITokenizer tokenizer, int vocabSize, int maxPositions)
    {
        var seq = tokenizer.Encode(PerkFormat.QuestionPrompt(numDocuments, question ?? "")).ToArray();
        Check(seq, vocabSize, maxPositions, "question prompt");
        return seq;
    }

    static void Check(int[] seq, int vocabSize, int maxPositions, string what)
    {
        if (seq.Length > maxPositions)
            throw new PerkException($"{what}: {seq.Length} tokens exceed the model's {maxPositions} positions (split the text into shorter segments)");
        foreach (var id in seq)
            if (id < 0 || id >= vocabSize)
                throw new PerkException($"{what}: token id {id} is outside the model's vocabulary (size {vocabSize}); tokenizer and model do not match");
    }

    /// <summary>Separate layout: one right-padded row per sequence; denominator B·(L_max−1).</summary>
    public static TokenBatch Separate(IReadOnlyList<TokenizedSequence> seqs, int padId)
    {
        if (seqs.Count == 0) throw new ArgumentException("no sequences");
        int b = seqs.Count, l = seqs.Max(s => s.Ids.Length);
        var ids = new long[b * l]; var pos = new long[b * l]; var tmask = new long[b * l]; var labels = new long[b * l];
        for (int r = 0; r < b; r++)
        {
            var s = seqs[r];
            for (int t = 0; t < l; t++)
            {
                int o = r * l + t;
                bool real = t < s.Ids.Length;
                ids[o] = real ? s.Ids[t] : padId;
                pos[o] = real ? t : 0;
                tmask[o] = real ? 1 : 0;
                labels[o] = real && t >= s.PromptLength ? s.Ids[t] : Losses.IgnoreIndex;
            }
        }
        using var scope = NewDisposeScope();
        return new TokenBatch(tensor(ids, new long[] { b, l }), tensor(pos, new long[] { b, l }), null,
            tensor(tmask, new long[] { b, l }), tensor(labels, new long[] { b, l }), (long)b * (l - 1), b, packed: false);
    }

    /// <summary>
    /// Packed layout: one row, segment ids 1..n as the attention mask, positions restarting per segment, label −100
    /// at every segment start (as the official packing; the start is a prompt token anyway).
    /// </summary>
    public static TokenBatch Packed(IReadOnlyList<TokenizedSequence> seqs, PackedNormalization normalization = PackedNormalization.AsSeparate)
    {
        if (seqs.Count == 0) throw new ArgumentException("no sequences");
        int total = seqs.Sum(s => s.Ids.Length), lMax = seqs.Max(s => s.Ids.Length);
        var ids = new long[total]; var pos = new long[total]; var seg = new long[total]; var labels = new long[total];
        int o = 0;
        for (int r = 0; r < seqs.Count; r++)
        {
            var s = seqs[r];
            for (int t = 0; t < s.Ids.Length; t++, o++)
            {
                ids[o] = s.Ids[t]; pos[o] = t; seg[o] = r + 1;
                labels[o] = t >= s.PromptLength && t > 0 ? s.Ids[t] : Losses.IgnoreIndex;
            }
        }
        long denom = normalization == PackedNormalization.AsSeparate ? (long)seqs.Count * (lMax - 1) : total - 1;
        using var scope = NewDisposeScope();
        var shape = new long[] { 1, total };
        return new TokenBatch(tensor(ids, shape), tensor(pos, shape), tensor(seg, shape), ones(shape, ScalarType.Int64),
            tensor(labels, shape), denom, seqs.Count, packed: true);
    }

    /// <summary>
    /// Splits the segments into micro-batches along the segment axis with torch.chunk semantics (chunks of
    /// ceil(n/k) segments; fewer than k chunks when n is small) — the official inner gradient accumulation.
    /// </summary>
    public static List<TokenBatch> MicroBatches(IReadOnlyList<TokenizedSequence> seqs, int accumulation, bool packed, int padId,
                                                PackedNormalization normalization = PackedNormalization.AsSeparate)
    {
        var list = new List<TokenBatch>();
        foreach (var chunk in Chunks(seqs, accumulation))
            list.Add(packed ? Packed(chunk, normalization) : Separate(chunk, padId));
        return list;
    }

    /// <summary>torch.chunk along the segment axis: chunks of ceil(n/k) segments (fewer than k when n is small).</summary>
    internal static List<List<TokenizedSequence>> Chunks(IReadOnlyList<TokenizedSequence> seqs, int accumulation)
    {
        if (accumulation < 1) throw new PerkException($"gradient accumulation must be >= 1 (got {accumulation})");
        int size = (seqs.Count + accumulation - 1) / accumulation;
        var list = new List<List<TokenizedSequence>>();
        for (int start = 0; start < seqs.Count; start += size) list.Add(seqs.Skip(start).Take(size).ToList());
        return list;
    }

    /// <summary>
    /// Micro-batches of several examples at once (batched meta-steps and evaluation): micro-batch c holds chunk c of
    /// every example, example-major, each example padded to the same number of rows. Every example keeps the
    /// denominator and micro-batch count of its own single-example batches, so its loss (and gradient) is exactly
    /// the one it would have alone; an example with fewer chunks contributes all-pad rows without labels.
    /// </summary>
    public static List<TokenBatch> BatchedMicroBatches(IReadOnlyList<IReadOnlyList<TokenizedSequence>> examples, int accumulation,
        bool packed, int padId, PackedNormalization normalization = PackedNormalization.AsSeparate)
    {
        if (examples.Count == 0) throw new ArgumentException("no examples");
        var chunks = examples.Select(e => Chunks(e, accumulation)).ToList();
        var k = chunks.Select(c => c.Count).ToArray();
        var list = new List<TokenBatch>();
        for (int c = 0; c < k.Max(); c++)
            list.Add(Batched(chunks.Select(ch => c < ch.Count ? ch[c] : new List<TokenizedSequence>()).ToList(), k, packed, padId, normalization));
        return list;
    }

    /// <summary>The question rows of several examples: one right-padded row each (batched outer loss).</summary>
    public static TokenBatch BatchedQuestions(IReadOnlyList<TokenizedSequence> questions, int padId) =>
        Batched(questions.Select(q => new List<TokenizedSequence> { q }).ToList(), questions.Select(_ => 1).ToArray(), packed: false, padId,
            PackedNormalization.AsSeparate);

    static TokenBatch Batched(IReadOnlyList<List<TokenizedSequence>> parts, int[] chunks, bool packed, int padId, PackedNormalization normalization)
    {
        int e = parts.Count;
        // Rows of one example: its sequences (separate) or its one packed row; all-pad rows fill up to R.
        var rows = parts.Select(p => packed ? (p.Count == 0 ? new List<List<TokenizedSequence>>() : new List<List<TokenizedSequence>> { p })
                                            : p.Select(q => new List<TokenizedSequence> { q }).ToList()).ToList();
        int r = Math.Max(1, rows.Max(x => x.Count));
        int l = Math.Max(2, rows.SelectMany(x => x).Select(row => row.Sum(q => q.Ids.Length)).DefaultIfEmpty(2).Max());
        long n = (long)e * r * l;
        var ids = new long[n]; var pos = new long[n]; var seg = new long[n]; var tmask = new long[n]; var labels = new long[n];
        Array.Fill(ids, padId); Array.Fill(labels, Losses.IgnoreIndex);
        var denoms = new long[e];
        for (int x = 0; x < e; x++)
        {
            var p = parts[x];
            if (p.Count == 0) { denoms[x] = 1; continue; }
            int lMax = p.Max(q => q.Ids.Length), total = p.Sum(q => q.Ids.Length);
            denoms[x] = !packed || normalization == PackedNormalization.AsSeparate ? (long)p.Count * (lMax - 1) : total - 1;
            for (int ri = 0; ri < rows[x].Count; ri++)
            {
                long o = ((long)x * r + ri) * l;
                int segId = 0;
                foreach (var q in rows[x][ri])
                {
                    segId++;
                    for (int t = 0; t < q.Ids.Length; t++, o++)
                    {
                        ids[o] = q.Ids[t]; pos[o] = t; seg[o] = segId; tmask[o] = 1;
                        bool labelled = t >= q.PromptLength && (!packed || t > 0);
                        labels[o] = labelled ? q.Ids[t] : Losses.IgnoreIndex;
                    }
                }
            }
        }
        using var scope = NewDisposeScope();
        var shape = new long[] { (long)e * r, l };
        int sequences = parts.Sum(p => p.Count);
        return new TokenBatch(tensor(ids, shape), tensor(pos, shape), packed ? tensor(seg, shape) : null, tensor(tmask, shape),
            tensor(labels, shape), denoms.Sum(), sequences, packed, e, denoms, chunks);
    }
}
