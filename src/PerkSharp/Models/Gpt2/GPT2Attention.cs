using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Gpt2;

/// <summary>HF GPT2Attention: fused c_attn [H, 3H] -> q, k, v; multi-head attention; c_proj [H, H].</summary>
public sealed class GPT2Attention : nn.Module<Tensor, Tensor>
{
    public readonly Conv1D c_attn;
    public readonly Conv1D c_proj;
    readonly int _layer, _heads, _headDim;

    internal GPT2Attention(ParamInit init, ModelConfig cfg, int layer) : base(nameof(GPT2Attention))
    {
        long h = cfg.HiddenSize;
        c_attn = new Conv1D(init, h, 3 * h, init.Std);
        // HF GPT-2 scales c_proj init by 1/sqrt(2·n_layer) (residual projections).
        c_proj = new Conv1D(init, h, h, init.Std / Math.Sqrt(2.0 * cfg.NumHiddenLayers));
        _layer = layer; _heads = cfg.NumAttentionHeads; _headDim = cfg.HiddenSize / cfg.NumAttentionHeads;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, ctx)");

    /// <summary>x: [B, T, H] (after ln_1) -> [B, T, H].</summary>
    internal Tensor Forward(Tensor x, ForwardContext ctx)
    {
        long b = x.shape[0], t = x.shape[1], h = x.shape[2];
        var qkv = ctx.Adapt(GPT2LMHeadModel.TargetIndex(_layer, 0), x, c_attn.forward(x));          // [B, T, 3H]
        var parts = qkv.split(h, 2);
        Tensor Heads(Tensor z) => z.view(b, t, _heads, _headDim).transpose(1, 2);                  // [B, nh, T, hd]
        var q = Heads(parts[0]);
        var k = Heads(parts[1]);
        var v = Heads(parts[2]);
        if (ctx.Cache is { } cache) (k, v) = cache.Append(_layer, k, v);
        var y = Attention.Compute(q, k, v, ctx.Mask, ctx.Fused, divideByScale: true);             // [B, nh, T, hd]
        var merged = y.transpose(1, 2).reshape(b, t, h);
        return ctx.Adapt(GPT2LMHeadModel.TargetIndex(_layer, 1), merged, c_proj.forward(merged));
    }
}
