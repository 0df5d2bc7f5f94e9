using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Decoder;

/// <summary>HF Qwen2MLP / LlamaMLP (SwiGLU): down_proj(act(gate_proj(x)) · up_proj(x)).</summary>
public sealed class DecoderMLP : nn.Module<Tensor, Tensor>
{
    public readonly Linear gate_proj, up_proj, down_proj;
    readonly int _layer;
    readonly string _act;

    internal DecoderMLP(ParamInit init, ModelConfig cfg, int layer) : base(nameof(DecoderMLP))
    {
        gate_proj = new Linear(init, cfg.HiddenSize, cfg.IntermediateSize, cfg.MlpBias);
        up_proj = new Linear(init, cfg.HiddenSize, cfg.IntermediateSize, cfg.MlpBias);
        down_proj = new Linear(init, cfg.IntermediateSize, cfg.HiddenSize, cfg.MlpBias);
        _layer = layer;
        _act = cfg.HiddenAct;
        Activations.Check(_act);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, ctx)");

    internal Tensor Forward(Tensor x, ForwardContext ctx)
    {
        int i0 = DecoderForCausalLM.TargetIndex(_layer, 4);
        var gate = Activations.Apply(_act, ctx.Adapt(i0, x, gate_proj.forward(x)));               // [B, T, I]
        var up = ctx.Adapt(i0 + 1, x, up_proj.forward(x));
        var h = gate.mul(up);
        return ctx.Adapt(i0 + 2, h, down_proj.forward(h));
    }
}
