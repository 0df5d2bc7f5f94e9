using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Layers;

/// <summary>
/// HF Qwen2/Llama RMSNorm: computed in float32 (float64 stays float64), cast back to the input dtype, then scaled:
/// weight * (x / sqrt(mean(x²) + eps)).
/// </summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    readonly double _eps;

    internal RMSNorm(ParamInit init, long dim, double eps) : base(nameof(RMSNorm))
    {
        weight = init.Ones(dim);
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var inDtype = x.dtype;
        var xf = inDtype is ScalarType.Float64 or ScalarType.Float32 ? x : x.to(ScalarType.Float32);
        var variance = xf.pow(2).mean(new long[] { -1 }, keepdim: true);
        var normed = xf.mul(variance.add(_eps).rsqrt());
        var y = weight.mul(normed.to(inDtype));
        return y.MoveToOuterDisposeScope();
    }
}
