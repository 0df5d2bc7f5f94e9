using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Gpt2;

/// <summary>HF GPT2Block (pre-norm): h + attn(ln_1(h)), then + mlp(ln_2(·)).</summary>
public sealed class GPT2Block : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm ln_1;
    public readonly GPT2Attention attn;
    public readonly LayerNorm ln_2;
    public readonly GPT2MLP mlp;

    internal GPT2Block(ParamInit init, ModelConfig cfg, int layer) : base(nameof(GPT2Block))
    {
        ln_1 = new LayerNorm(init, cfg.HiddenSize, cfg.LayerNormEpsilon);
        attn = new GPT2Attention(init, cfg, layer);
        ln_2 = new LayerNorm(init, cfg.HiddenSize, cfg.LayerNormEpsilon);
        mlp = new GPT2MLP(init, cfg, layer);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(h, ctx)");

    /// <summary>h: [B, T, H] -> [B, T, H]; one dispose scope per layer, the output is moved out.</summary>
    internal Tensor Forward(Tensor h, ForwardContext ctx)
    {
        using var scope = NewDisposeScope();
        var a = h.add(attn.Forward(ln_1.forward(h), ctx));
        var o = a.add(mlp.Forward(ln_2.forward(a), ctx));
        return o.MoveToOuterDisposeScope();
    }
}
