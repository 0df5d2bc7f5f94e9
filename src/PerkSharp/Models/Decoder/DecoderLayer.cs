using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Decoder;

/// <summary>HF Qwen2DecoderLayer / LlamaDecoderLayer (pre-norm with RMSNorm).</summary>
public sealed class DecoderLayer : nn.Module<Tensor, Tensor>
{
    public readonly DecoderAttention self_attn;
    public readonly DecoderMLP mlp;
    public readonly RMSNorm input_layernorm;
    public readonly RMSNorm post_attention_layernorm;

    internal DecoderLayer(ParamInit init, ModelConfig cfg, int layer) : base(nameof(DecoderLayer))
    {
        self_attn = new DecoderAttention(init, cfg, layer);
        mlp = new DecoderMLP(init, cfg, layer);
        input_layernorm = new RMSNorm(init, cfg.HiddenSize, cfg.RmsNormEps);
        post_attention_layernorm = new RMSNorm(init, cfg.HiddenSize, cfg.RmsNormEps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(h, ctx)");

    /// <summary>h: [B, T, H] -> [B, T, H]; one dispose scope per layer, the output is moved out.</summary>
    internal Tensor Forward(Tensor h, ForwardContext ctx)
    {
        using var scope = NewDisposeScope();
        var a = h.add(self_attn.Forward(input_layernorm.forward(h), ctx));
        var o = a.add(mlp.Forward(post_attention_layernorm.forward(a), ctx));
        return o.MoveToOuterDisposeScope();
    }
}
