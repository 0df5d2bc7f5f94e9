namespace PerkSharp.MetaLearning;

/// <summary>
/// The context micro-batches of one test-time encode, built lazily (only one part's tensors exist at a time) and cut
/// into parts of at most <see cref="RowsPerPart"/> segments when a memory budget asks for it
/// (<see cref="Runtime.MemoryBudget"/>). The objective stays that of the k micro-batches
/// (<see cref="PerkBatcher.MicroBatches"/>: torch.chunk of the segments): each part's loss is normalised by its whole
/// micro-batch's denominator and labelled count and divided by that k, so a micro-batch's parts sum to its loss and
/// their gradients to its gradient, up to float rounding. A separate-rows part only drops the other rows' padding, a
/// packed part only the other segments (the block-diagonal mask keeps segments apart anyway). A micro-batch that fits
/// whole is built exactly as <see cref="PerkBatcher.MicroBatches"/> builds it, so an unsplit encode is bit-identical
/// to one over those batches. With dropout on, parts draw their own masks: the same distribution, other draws.
/// </summary>
public sealed class ContextParts
{
    readonly List<List<TokenizedSequence>> _chunks;
    readonly bool _packed;
    readonly int _padId;
    readonly PackedNormalization _normalization;

    public ContextParts(IReadOnlyList<TokenizedSequence> seqs, int accumulation, bool packed, int padId,
                        PackedNormalization normalization = PackedNormalization.AsSeparate, int rowsPerPart = int.MaxValue)
    {
        if (seqs.Count == 0) throw new ArgumentException("no sequences");
        if (rowsPerPart < 1) throw new ArgumentOutOfRangeException(nameof(rowsPerPart), "at least one segment per part");
        _chunks = PerkBatcher.Chunks(seqs, accumulation);
        _packed = packed; _padId = padId; _normalization = normalization;
        RowsPerPart = rowsPerPart;
        Segments = seqs.Count;
    }

    /// <summary>Most segments one forward/backward holds.</summary>
    public int RowsPerPart { get; }

    /// <summary>k: the micro-batches of the objective (fewer than the accumulation setting when segments are few).</summary>
    public int Chunks => _chunks.Count;

    public int Segments { get; }

    /// <summary>Forward/backward passes per inner step.</summary>
    public int PartsPerStep => _chunks.Sum(c => (int)(((long)c.Count + RowsPerPart - 1) / RowsPerPart));

    /// <summary>Called after each part has been consumed (its gradient taken): progress of a long encode.</summary>
    public Action? PartDone { get; set; }

    /// <summary>One inner step's parts in order; each is disposed once the consumer moves on.</summary>
    public IEnumerable<TokenBatch> Step()
    {
        foreach (var chunk in _chunks)
        {
            if (chunk.Count <= RowsPerPart)
            {
                var whole = Build(chunk);
                try { yield return whole; } finally { whole.Dispose(); }
                PartDone?.Invoke();
                continue;
            }
            long denominator = Denominator(chunk), labelled = Labelled(chunk);
            for (int start = 0; start < chunk.Count; start += RowsPerPart)
            {
                var part = Build(chunk.GetRange(start, Math.Min(RowsPerPart, chunk.Count - start))).AsPart(denominator, labelled, _chunks.Count);
                try { yield return part; } finally { part.Dispose(); }
                PartDone?.Invoke();
            }
        }
    }

    TokenBatch Build(List<TokenizedSequence> seqs) => _packed ? PerkBatcher.Packed(seqs, _normalization) : PerkBatcher.Separate(seqs, _padId);

    /// <summary>The denominator <see cref="PerkBatcher.Separate"/> / <see cref="PerkBatcher.Packed"/> give the whole micro-batch.</summary>
    long Denominator(List<TokenizedSequence> chunk)
    {
        int lMax = chunk.Max(s => s.Ids.Length);
        return _packed && _normalization == PackedNormalization.PackedTokens
            ? chunk.Sum(s => (long)s.Ids.Length) - 1
            : (long)chunk.Count * (lMax - 1);
    }

    /// <summary>Labelled next-token targets of the whole micro-batch: positions 1.. from the end of each prompt on.</summary>
    static long Labelled(List<TokenizedSequence> chunk) => chunk.Sum(s => (long)Math.Max(0, s.Ids.Length - Math.Max(s.PromptLength, 1)));
}
