using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Gpt2;

/// <summary>HF GPT2MLP: c_fc [H, I] -> activation (gelu_new) -> c_proj [I, H].</summary>
public sealed class GPT2MLP : nn.Module<Tensor, Tensor>
{
    public readonly Conv1D c_fc;
    public readonly Conv1D c_proj;
    readonly int _layer;
    readonly string _act;

    internal GPT2MLP(ParamInit init, ModelConfig cfg, int layer) : base(nameof(GPT2MLP))
    {
        c_fc = new Conv1D(init, cfg.HiddenSize, cfg.IntermediateSize, init.Std);
        c_proj = new Conv1D(init, cfg.IntermediateSize, cfg.HiddenSize, init.Std / Math.Sqrt(2.0 * cfg.NumHiddenLayers));
        _layer = layer;
        _act = cfg.HiddenAct;
        Activations.Check(_act);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, ctx)");

    internal Tensor Forward(Tensor x, ForwardContext ctx)
    {
        var hidden = ctx.Adapt(GPT2LMHeadModel.TargetIndex(_layer, 2), x, c_fc.forward(x));      // [B, T, I]
        var act = Activations.Apply(_act, hidden);
        return ctx.Adapt(GPT2LMHeadModel.TargetIndex(_layer, 3), act, c_proj.forward(act));
    }
}
