using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Layers;

/// <summary>LayerNorm over the last dimension with weight (1) and bias (0), eps from config (GPT-2 layer_norm_epsilon).</summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    public readonly Parameter bias;
    readonly double _eps;

    internal LayerNorm(ParamInit init, long dim, double eps) : base(nameof(LayerNorm))
    {
        weight = init.Ones(dim);
        bias = init.Zeros(dim);
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => nn.functional.layer_norm(x, new[] { weight.shape[0] }, weight, bias, _eps);
}
