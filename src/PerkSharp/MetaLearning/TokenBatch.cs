using PerkSharp.Adapters;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>One tokenized sequence: ids and how many leading tokens are prompt (loss-masked).</summary>
/// <param name="Ids">Token ids (prompt then completion, the completion ending in end-of-text).</param>
/// <param name="PromptLength">Number of leading ids that carry label −100.</param>
public sealed record TokenizedSequence(int[] Ids, int PromptLength);

/// <summary>
/// One micro-batch of sequences as model tensors. Separate layout: one row per sequence, right-padded, positions
/// 0..len−1, no attention mask needed (causal attention never looks right, so pads cannot reach real tokens).
/// Packed layout: one row, segments concatenated, positions restarting at 0, attention mask = segment ids 1..n
/// (block-diagonal causal). Labels are −100 on prompts and pads. The tensors are owned (detached from scopes).
/// </summary>
public sealed class TokenBatch : IDisposable
{
    internal TokenBatch(Tensor inputIds, Tensor positionIds, Tensor? attentionMask, Tensor tokenMask, Tensor labels,
                        long denominator, int sequences, bool packed, int examples = 1, long[]? exampleDenominators = null,
                        int[]? exampleChunks = null)
    {
        Examples = examples;
        ExampleDenominators = exampleDenominators;
        ExampleChunks = exampleChunks;
        InputIds = inputIds.DetachFromDisposeScope();
        PositionIds = positionIds.DetachFromDisposeScope();
        AttentionMask = attentionMask?.DetachFromDisposeScope();
        TokenMask = tokenMask.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        Denominator = denominator;
        Sequences = sequences;
        Packed = packed;
    }

    /// <summary>[B, L] int64.</summary>
    public Tensor InputIds { get; }
    /// <summary>[B, L] int64, restarting at 0 for every sequence.</summary>
    public Tensor PositionIds { get; }
    /// <summary>[B, L] int64 segment ids (packed) or null (separate rows: plain causal).</summary>
    public Tensor? AttentionMask { get; }
    /// <summary>[B, L] int64, 1 on real tokens and 0 on pads (multiplies the token weights).</summary>
    public Tensor TokenMask { get; }
    /// <summary>[B, L] int64 labels, −100 where no loss applies.</summary>
    public Tensor Labels { get; }
    /// <summary>Denominator of the weighted inner loss (separate: B·(L−1), pads included, as the official code).</summary>
    public long Denominator { get; private set; }
    /// <summary>
    /// Set when this batch is one part of a larger micro-batch (<see cref="ContextParts"/>): that micro-batch's number
    /// of micro-batches k and its labelled-token count, so the part's loss is its share of the whole one's
    /// (<see cref="Denominator"/> is then the whole one's too). 0 = a whole micro-batch.
    /// </summary>
    public int PartOfChunks { get; private set; }
    public long PartOfLabelled { get; private set; }

    /// <summary>Marks this batch as a part of a micro-batch with the given denominator, labelled count and k.</summary>
    internal TokenBatch AsPart(long denominator, long labelled, int chunks)
    {
        Denominator = denominator; PartOfLabelled = labelled; PartOfChunks = chunks;
        return this;
    }
    /// <summary>Number of sequences (segments) in this micro-batch.</summary>
    public int Sequences { get; }
    public bool Packed { get; }

    /// <summary>
    /// Examples in this batch (batched meta-steps): rows are example-major, <see cref="RowsPerExample"/> each, and the
    /// LoRA state carries one fast-weight set per example. 1 for the single-example layout.
    /// </summary>
    public int Examples { get; }
    public long RowsPerExample => InputIds.shape[0] / Examples;
    /// <summary>Per example: the denominator its own single-example batch would have (null when Examples = 1).</summary>
    public long[]? ExampleDenominators { get; }
    /// <summary>Per example: its number of micro-batches k (its loss is divided by its own k).</summary>
    public int[]? ExampleChunks { get; }

    /// <summary>The model input for this batch, running with the given LoRA fast weights (null: base model).</summary>
    public LMInput ToInput(LoraState? lora) => new(InputIds, PositionIds, AttentionMask) { Lora = lora };

    public void Dispose()
    {
        InputIds.Dispose(); PositionIds.Dispose(); AttentionMask?.Dispose(); TokenMask.Dispose(); Labels.Dispose();
    }
}

/// <summary>How a packed micro-batch's inner loss is normalised.</summary>
public enum PackedNormalization
{
    /// <summary>As the separate layout would: n·(L_max − 1). Packed and separate then give identical losses.</summary>
    AsSeparate,
    /// <summary>As the official flash-attention packing: (total packed tokens − 1).</summary>
    PackedTokens,
}
