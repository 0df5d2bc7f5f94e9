using static TorchSharp.torch;

namespace PerkSharp.Models;

/// <summary>
/// Scaled dot-product attention shared by all architectures. Two paths with the same result:
/// explicit (matmul, masked_fill, softmax, matmul) which can be differentiated twice, and libtorch's fused kernel,
/// which serves inference only (its CPU backward has no derivative: double backward aborts the process).
/// </summary>
internal static class Attention
{
    /// <summary>
    /// q: [B, H, T, D]; k, v: [B, H, S, D] (already repeated for GQA). Returns [B, H, T, D].
    /// <paramref name="mask"/> is the per-forward <see cref="AttentionMask"/>. GPT-2 divides the scores by √D and
    /// Qwen2/Llama multiply by D^-0.5 (<paramref name="divideByScale"/>), as HF's eager code does.
    /// </summary>
    public static Tensor Compute(Tensor q, Tensor k, Tensor v, AttentionMask mask, bool fused, bool divideByScale)
    {
        if (fused)
            return nn.functional.scaled_dot_product_attention(q, k, v, mask.Additive(q.dtype), is_casual: mask.UseIsCausal);

        using var scope = NewDisposeScope();
        double d = q.shape[^1];
        var scores = q.matmul(k.transpose(-2, -1));                       // [B, H, T, S]
        scores = divideByScale ? scores.div(Math.Sqrt(d)) : scores.mul(1.0 / Math.Sqrt(d));
        if (mask.Blocked is { } blocked) scores = FillBlocked(scores, blocked);
        // Softmax in at least float32 (HF upcasts for bf16); fully masked rows become uniform, not NaN.
        var probs = scores.dtype is ScalarType.BFloat16 or ScalarType.Float16
            ? scores.softmax(-1, ScalarType.Float32).to(v.dtype)
            : scores.softmax(-1);
        return probs.matmul(v).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// x with <see cref="MinValue"/> where <paramref name="blocked"/> is true. The fill Scalar is held by a local to the
    /// end of the call: TorchSharp passes only a temporary Scalar's handle, so the GC may finalise it while libtorch
    /// still reads it (a quickstart --qa2 run died in Scalar::toFloat that way).
    /// </summary>
    public static Tensor FillBlocked(Tensor x, Tensor blocked)
    {
        using TorchSharp.Scalar fill = MinValue(x.dtype);
        return x.masked_fill(blocked, fill);
    }

    /// <summary>Repeats kv heads for grouped-query attention: [B, kvH, S, D] -> [B, kvH·rep, S, D] (HF repeat_kv).</summary>
    public static Tensor RepeatKv(Tensor x, long rep) => rep == 1 ? x.alias() : x.repeat_interleave(rep, dim: 1);

    /// <summary>The most negative finite value of a dtype (HF's torch.finfo(dtype).min): masked logits stay finite.</summary>
    public static double MinValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => double.MinValue,
        ScalarType.Float32 => float.MinValue,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        ScalarType.Float16 => -65504.0,
        _ => throw new ArgumentException($"attention scores must be floating point (got {dtype})"),
    };
}
