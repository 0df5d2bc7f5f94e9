using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>
/// The two losses of PERK (docs/DESIGN.md). Logits of a bf16 base are upcast to float32 first
/// (<see cref="Adapters.MixedPrecision.LossLogits"/>, as HF's loss), so every loss is fp32 or fp64.
/// </summary>
public static class Losses
{
    public const long IgnoreIndex = -100;

    /// <summary>
    /// Inner (encoding) loss exactly as the official <c>weighted_loss</c>: per-token CE of logits[:, :-1] against
    /// labels[:, 1:] (0 at ignored positions) times weights[:, 1:], summed and divided by <paramref name="denominator"/>
    /// (B·(L−1) in separate mode: masked and padded positions count), then divided by the number of micro-batches.
    /// logits [B, L, V], labels [B, L], weights [B, L] (null = unweighted: plain mean CE over labelled tokens, as
    /// HF's loss when weighted_loss is off). <paramref name="labelled"/> &gt; 0 replaces the unweighted count (a part of a
    /// micro-batch normalises by the whole one's, see <see cref="ContextParts"/>).
    /// </summary>
    public static Tensor WeightedTokenLoss(Tensor logits, Tensor labels, Tensor? weights, long denominator, int microBatches = 1, long labelled = 0)
    {
        using var scope = NewDisposeScope();
        logits = Adapters.MixedPrecision.LossLogits(logits);
        long v = logits.shape[2];
        long l = logits.shape[1];
        var lg = logits.narrow(1, 0, l - 1).reshape(-1, v);                         // [B·(L−1), V]
        var lb = labels.narrow(1, 1, l - 1).reshape(-1);                              // [B·(L−1)]
        var ce = nn.functional.cross_entropy(lg, lb, ignore_index: IgnoreIndex, reduction: nn.Reduction.None);
        Tensor loss;
        if (weights is null && labelled > 0) loss = ce.sum() / (double)labelled;
        else if (weights is null)
        {
            var n = lb.ne(IgnoreIndex).sum().to_type(ce.dtype).clamp_min(1);
            loss = ce.sum() / n;
        }
        else
        {
            var w = weights.narrow(1, 1, l - 1).reshape(-1);                          // weight of token t+1 from position t+1
            loss = (ce * w).sum() / (double)denominator;
        }
        if (microBatches > 1) loss = loss / (double)microBatches;
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Outer (reasoning) loss: mean CE over the labelled (answer) tokens, HF causal-LM style shift.
    /// logits [B, L, V], labels [B, L] with −100 on prompt and pads.
    /// </summary>
    public static Tensor AnswerLoss(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        logits = Adapters.MixedPrecision.LossLogits(logits);
        long v = logits.shape[2];
        long l = logits.shape[1];
        var lg = logits.narrow(1, 0, l - 1).reshape(-1, v);
        var lb = labels.narrow(1, 1, l - 1).reshape(-1);
        return nn.functional.cross_entropy(lg, lb, ignore_index: IgnoreIndex).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The inner loss of a multi-example batch: Σ_e L_e, where L_e is exactly <see cref="WeightedTokenLoss"/> of example
    /// e's rows alone (its own denominator and micro-batch count). Summing keeps the examples independent: ∂/∂φ_e of
    /// the sum is ∂L_e/∂φ_e. Also returns the per-example losses [E] (detached) for logging.
    /// </summary>
    public static Tensor WeightedTokenLossBatched(Tensor logits, Tensor labels, Tensor? weights, TokenBatch mb)
    {
        using var scope = NewDisposeScope();
        logits = Adapters.MixedPrecision.LossLogits(logits);
        int e = mb.Examples;
        long v = logits.shape[2], l = logits.shape[1];
        var lg = logits.narrow(1, 0, l - 1).reshape(-1, v);
        var lb = labels.narrow(1, 1, l - 1);                                          // [N, L−1]
        var ce = nn.functional.cross_entropy(lg, lb.reshape(-1), ignore_index: IgnoreIndex, reduction: nn.Reduction.None)
            .reshape(lb.shape);                                                       // [N, L−1]
        var chunks = tensor(mb.ExampleChunks!.Select(c => (double)c).ToArray(), ce.dtype);
        Tensor perExample;
        if (weights is null)
        {
            var n = lb.ne(IgnoreIndex).to_type(ce.dtype).reshape(e, -1).sum(1).clamp_min(1);
            perExample = ce.reshape(e, -1).sum(1) / n;
        }
        else
        {
            var w = weights.narrow(1, 1, l - 1);
            var denom = tensor(mb.ExampleDenominators!.Select(d => (double)d).ToArray(), ce.dtype);
            perExample = (ce * w).reshape(e, -1).sum(1) / denom;
        }
        return (perExample / chunks).sum().MoveToOuterDisposeScope();
    }

    /// <summary>Outer loss of a multi-example batch: the mean over rows (examples) of each row's <see cref="AnswerLoss"/>.</summary>
    public static Tensor AnswerLossBatched(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        logits = Adapters.MixedPrecision.LossLogits(logits);
        long v = logits.shape[2], l = logits.shape[1];
        var lb = labels.narrow(1, 1, l - 1);
        var ce = nn.functional.cross_entropy(logits.narrow(1, 0, l - 1).reshape(-1, v), lb.reshape(-1), ignore_index: IgnoreIndex,
            reduction: nn.Reduction.None).reshape(lb.shape);
        var n = lb.ne(IgnoreIndex).to_type(ce.dtype).sum(1).clamp_min(1);
        return (ce.sum(1) / n).mean().MoveToOuterDisposeScope();
    }
}
