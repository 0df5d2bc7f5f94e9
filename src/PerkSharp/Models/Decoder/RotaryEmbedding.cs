using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace PerkSharp.Models.Decoder;

/// <summary>
/// HF rotary position embeddings (Qwen2/Llama): inv_freq = 1 / θ^(2i/D) in float32, optionally rescaled by
/// rope_scaling type llama3; cos/sin of positions·inv_freq duplicated over both halves (HF's rotate_half layout).
/// A plain holder, not a Module: inv_freq is derived from the config and is no checkpoint tensor.
/// </summary>
internal sealed class RotaryEmbedding : IDisposable
{
    public RotaryEmbedding(ModelConfig cfg) { InvFreq = ComputeInvFreq(cfg).DetachFromDisposeScope(); }

    /// <summary>[D/2] float32.</summary>
    public Tensor InvFreq { get; }

    public static Tensor ComputeInvFreq(ModelConfig cfg)
    {
        using var scope = NewDisposeScope();
        int dim = cfg.HeadDim;
        // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in float32.
        var exponent = arange(0, dim, 2, dtype: ScalarType.Int64).to(ScalarType.Float32).div(dim);
        var inv = tensor((float)cfg.RopeTheta, ScalarType.Float32).pow(exponent).reciprocal();
        if (cfg.RopeScaling is { RopeType: "llama3" } rs) inv = Llama3(inv, rs);
        return inv.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// HF _compute_llama3_parameters: wavelengths longer than original_max/low_freq_factor are divided by factor,
    /// shorter than original_max/high_freq_factor are kept, and the band between is interpolated smoothly.
    /// </summary>
    static Tensor Llama3(Tensor inv, RopeScaling rs)
    {
        double oldCtx = rs.OriginalMaxPositionEmbeddings;
        double lowWavelen = oldCtx / rs.LowFreqFactor, highWavelen = oldCtx / rs.HighFreqFactor;
        var wavelen = inv.reciprocal().mul(2 * Math.PI);
        var scaled = where(wavelen.gt(lowWavelen), inv.div(rs.Factor), inv);
        var smooth = wavelen.reciprocal().mul(oldCtx).sub(rs.LowFreqFactor).div(rs.HighFreqFactor - rs.LowFreqFactor);
        var smoothed = smooth.neg().add(1).mul(scaled).div(rs.Factor).add(smooth.mul(scaled));
        var medium = wavelen.lt(highWavelen).logical_not().logical_and(wavelen.gt(lowWavelen).logical_not());
        return where(medium, smoothed, scaled);
    }

    /// <summary>positions [B, T] int64 -> (cos, sin) [B, 1, T, D] in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1).mul(InvFreq);   // [B, T, D/2]
        var emb = cat(new[] { freqs, freqs }, -1);                                  // [B, T, D]
        var cos = emb.cos().to(dtype).unsqueeze(1);
        var sin = emb.sin().to(dtype).unsqueeze(1);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>x·cos + rotate_half(x)·sin with rotate_half(x) = cat(-x₂, x₁). x: [B, heads, T, D].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotated = cat(new[] { x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half) }, -1);
        return x.mul(cos).add(rotated.mul(sin)).MoveToOuterDisposeScope();
    }

    public void Dispose() => InvFreq.Dispose();
}
