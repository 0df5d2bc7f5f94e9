using static TorchSharp.torch;

namespace PerkSharp.Models;

/// <summary>
/// The attention mask of one forward pass, built once and shared by every layer. From segment ids
/// m [B, S] (S = Tpast + T): query i (absolute position Tpast + i) may attend key j iff j ≤ Tpast + i,
/// m[j] ≠ 0 and m[j] = m[Tpast + i]. Packed segments thus get a block-diagonal causal mask, left padding is never
/// attended, and padded query rows are fully masked (their softmax is uniform, finite, and ignored).
/// </summary>
internal sealed class AttentionMask : IDisposable
{
    Tensor? _additive;

    AttentionMask(Tensor? blocked, bool useIsCausal) { Blocked = blocked; UseIsCausal = useIsCausal; }

    /// <summary>[B or 1, 1, T, S] bool, true where attention is NOT allowed; null when everything is visible.</summary>
    public Tensor? Blocked { get; }

    /// <summary>Fused path only: plain causal attention without a cache, expressed by the kernel's causal flag.</summary>
    public bool UseIsCausal { get; }

    /// <summary>
    /// Builds the mask. <paramref name="segments"/>: [B, Tpast + T] int64 segment ids or null (causal only).
    /// <paramref name="fused"/>: whether the fused kernel will run (so plain causal needs no tensor).
    /// </summary>
    public static AttentionMask Build(Tensor? segments, long tPast, long t, bool fused)
    {
        long s = tPast + t;
        if (segments is null)
        {
            if (t == 1) return new AttentionMask(null, false);               // one query sees the whole cache
            if (fused && tPast == 0) return new AttentionMask(null, true);
            return new AttentionMask(CausalBlocked(tPast, t, s).unsqueeze(0).unsqueeze(0).DetachFromDisposeScope(), false);
        }
        using var scope = NewDisposeScope();
        var keys = segments.unsqueeze(1);                                    // [B, 1, S]
        var queries = segments.narrow(1, tPast, t).unsqueeze(2);             // [B, T, 1]
        var allowed = keys.eq(queries).logical_and(keys.ne(0));              // [B, T, S]
        var blocked = allowed.logical_not().logical_or(CausalBlocked(tPast, t, s).unsqueeze(0));
        return new AttentionMask(blocked.unsqueeze(1).DetachFromDisposeScope(), false);
    }

    /// <summary>[T, S] bool, true above the causal diagonal shifted by the cache length.</summary>
    static Tensor CausalBlocked(long tPast, long t, long s)
    {
        using var i = arange(tPast, tPast + t, dtype: ScalarType.Int64).unsqueeze(1);   // [T, 1]
        using var j = arange(0, s, dtype: ScalarType.Int64).unsqueeze(0);                 // [1, S]
        return j.gt(i);
    }

    /// <summary>The additive float mask the fused kernel takes (0 or finfo.min); null when no mask is needed.</summary>
    public Tensor? Additive(ScalarType dtype)
    {
        if (Blocked is null) return null;
        if (_additive is null || _additive.dtype != dtype)
        {
            _additive?.Dispose();
            using var z = zeros(Blocked.shape, dtype);
            _additive = Attention.FillBlocked(z, Blocked).DetachFromDisposeScope();
        }
        return _additive;
    }

    public void Dispose() { Blocked?.Dispose(); _additive?.Dispose(); }
}
