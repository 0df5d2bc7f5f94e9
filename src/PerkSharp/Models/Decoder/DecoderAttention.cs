using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Decoder;

/// <summary>
/// HF Qwen2Attention / LlamaAttention: q/k/v/o projections, rotary embeddings, grouped-query attention (kv heads
/// repeated). q/k/v carry a bias for Qwen2 and for Llama with attention_bias; o_proj has one only for Llama with
/// attention_bias (as in HF).
/// </summary>
public sealed class DecoderAttention : nn.Module<Tensor, Tensor>
{
    public readonly Linear q_proj, k_proj, v_proj, o_proj;
    readonly int _layer, _heads, _kvHeads, _headDim;

    internal DecoderAttention(ParamInit init, ModelConfig cfg, int layer) : base(nameof(DecoderAttention))
    {
        _layer = layer; _heads = cfg.NumAttentionHeads; _kvHeads = cfg.NumKeyValueHeads; _headDim = cfg.HeadDim;
        q_proj = new Linear(init, cfg.HiddenSize, (long)_heads * _headDim, cfg.AttentionBias);
        k_proj = new Linear(init, cfg.HiddenSize, (long)_kvHeads * _headDim, cfg.AttentionBias);
        v_proj = new Linear(init, cfg.HiddenSize, (long)_kvHeads * _headDim, cfg.AttentionBias);
        o_proj = new Linear(init, (long)_heads * _headDim, cfg.HiddenSize, cfg.ModelType == "llama" && cfg.AttentionBias);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, ctx)");

    /// <summary>x: [B, T, H] (after input_layernorm) -> [B, T, H].</summary>
    internal Tensor Forward(Tensor x, ForwardContext ctx)
    {
        long b = x.shape[0], t = x.shape[1];
        int i0 = DecoderForCausalLM.TargetIndex(_layer, 0);
        Tensor Heads(Tensor z, int n) => z.view(b, t, n, _headDim).transpose(1, 2);               // [B, n, T, D]
        var q = Heads(ctx.Adapt(i0, x, q_proj.forward(x)), _heads);
        var k = Heads(ctx.Adapt(i0 + 1, x, k_proj.forward(x)), _kvHeads);
        var v = Heads(ctx.Adapt(i0 + 2, x, v_proj.forward(x)), _kvHeads);
        q = RotaryEmbedding.Apply(q, ctx.Cos!, ctx.Sin!);
        k = RotaryEmbedding.Apply(k, ctx.Cos!, ctx.Sin!);
        if (ctx.Cache is { } cache) (k, v) = cache.Append(_layer, k, v);
        long rep = _heads / _kvHeads;
        var y = Attention.Compute(q, Attention.RepeatKv(k, rep), Attention.RepeatKv(v, rep), ctx.Mask, ctx.Fused, divideByScale: false);
        var merged = y.transpose(1, 2).reshape(b, t, (long)_heads * _headDim);
        return ctx.Adapt(i0 + 3, merged, o_proj.forward(merged));
    }
}
