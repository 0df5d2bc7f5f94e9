using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace PerkSharp.Models.Layers;

/// <summary>
/// Creates frozen parameters directly with HF's init (normal(0, initializer_range), zero biases, unit norms), so that
/// building a 124M model costs one pass of random numbers instead of TorchSharp's default init followed by a re-init
/// (docs/DESIGN.md, #1416). Values are drawn in float32 and then cast, so a bf16 model is the rounded float32 model of
/// the same seed.
/// </summary>
internal sealed class ParamInit : IDisposable
{
    readonly Generator? _gen;
    readonly bool _random;

    /// <param name="random">False leaves weight matrices uninitialised (torch.empty): for models about to be loaded.</param>
    public ParamInit(ModelConfig config, ScalarType dtype, long? seed, bool random = true)
    {
        _random = random;
        if (!is_floating_point(empty(1, dtype: dtype)))
            throw new Runtime.PerkException($"model dtype must be floating point (got {dtype})");
        DType = dtype;
        Std = ModelConfig.TryNumber(config.Extra["initializer_range"], out var r) && r >= 0 ? r : 0.02;
        _gen = seed is long s ? new Generator(unchecked((ulong)s), CPU) : null;
    }

    public ScalarType DType { get; }

    /// <summary>HF initializer_range (default 0.02).</summary>
    public double Std { get; }

    public Parameter Normal(double std, params long[] shape)
    {
        if (!_random) return new(empty(shape, DType), requires_grad: false);
        using var t = empty(shape, ScalarType.Float32);
        t.normal_(0.0, std, _gen);
        return Frozen(t);
    }

    public Parameter Zeros(params long[] shape) => new(zeros(shape, DType), requires_grad: false);

    public Parameter Ones(params long[] shape) => new(ones(shape, DType), requires_grad: false);

    Parameter Frozen(Tensor t) => new(t.to(DType), requires_grad: false);

    public void Dispose() => _gen?.Dispose();
}
