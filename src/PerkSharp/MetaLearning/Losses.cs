using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>The two losses of PERK (PERK-METHOD §3.3 inner, §3.4 outer).</summary>
public static class Losses
{
    public const long IgnoreIndex = -100;

    /// <summary>
    /// Inner (encoding) loss exactly as the official <c>weighted_loss</c>: per-token CE of logits[:, :-1] against
    /// labels[:, 1:] (0 at ignored positions) times weights[:, 1:], summed and divided by <paramref name="denominator"/>
    /// (B·(L−1) in separate mode: masked and padded positions count), then divided by the number of micro-batches.
    /// logits [B, L, V], labels [B, L], weights [B, L] (null = unweighted: plain mean CE over labelled tokens, as
    /// HF's loss when weighted_loss is off).
    /// </summary>
    public static Tensor WeightedTokenLoss(Tensor logits, Tensor labels, Tensor? weights, long denominator, int microBatches = 1)
    {
        using var scope = NewDisposeScope();
        long v = logits.shape[2];
        long l = logits.shape[1];
        var lg = logits.narrow(1, 0, l - 1).reshape(-1, v);                         // [B·(L−1), V]
        var lb = labels.narrow(1, 1, l - 1).reshape(-1);                              // [B·(L−1)]
        var ce = nn.functional.cross_entropy(lg, lb, ignore_index: IgnoreIndex, reduction: nn.Reduction.None);
        Tensor loss;
        if (weights is null)
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
        long v = logits.shape[2];
        long l = logits.shape[1];
        var lg = logits.narrow(1, 0, l - 1).reshape(-1, v);
        var lb = labels.narrow(1, 1, l - 1).reshape(-1);
        return nn.functional.cross_entropy(lg, lb, ignore_index: IgnoreIndex).MoveToOuterDisposeScope();
    }
}
