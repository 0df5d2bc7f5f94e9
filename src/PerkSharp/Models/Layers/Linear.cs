using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Layers;

/// <summary>
/// nn.Linear with weight [out, in] and optional bias, built with HF's init directly (TorchSharp's Linear would spend
/// a kaiming init first). y = x·Wᵀ + b.
/// </summary>
public sealed class Linear : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;  // [out, in]
    public readonly Parameter? bias;   // [out] or null

    internal Linear(ParamInit init, long inFeatures, long outFeatures, bool hasBias) : base(nameof(Linear))
    {
        weight = init.Normal(init.Std, outFeatures, inFeatures);
        bias = hasBias ? init.Zeros(outFeatures) : null;
        RegisterComponents();
    }

    public long InFeatures => weight.shape[1];
    public long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor x) => nn.functional.linear(x, weight, bias);
}
