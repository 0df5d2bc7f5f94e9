using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Layers;

/// <summary>HF GPT-2 Conv1D: a linear layer whose weight is stored [in, out]; y = x·W + b (addmm, as HF).</summary>
public sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight; // [in, out]
    public readonly Parameter bias;   // [out]

    internal Conv1D(ParamInit init, long inFeatures, long outFeatures, double std) : base(nameof(Conv1D))
    {
        weight = init.Normal(std, inFeatures, outFeatures);
        bias = init.Zeros(outFeatures);
        RegisterComponents();
    }

    public long InFeatures => weight.shape[0];
    public long OutFeatures => weight.shape[1];

    /// <summary>x: [..., in] -> [..., out].</summary>
    public override Tensor forward(Tensor x)
    {
        var shape = x.shape;
        shape[^1] = OutFeatures;
        using var flat = x.reshape(-1, InFeatures);
        using var y = addmm(bias, flat, weight, 1.0f, 1.0f);
        return y.view(shape);
    }
}
