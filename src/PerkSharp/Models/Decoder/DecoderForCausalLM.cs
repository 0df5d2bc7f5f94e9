using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Decoder;

/// <summary>
/// The Qwen2/Llama family (HF Qwen2ForCausalLM, LlamaForCausalLM): keys model.embed_tokens.weight,
/// model.layers.{i}.self_attn.{q,k,v,o}_proj.{weight,bias?}, model.layers.{i}.mlp.{gate,up,down}_proj.weight,
/// model.layers.{i}.{input,post_attention}_layernorm.weight, model.norm.weight and lm_head.weight when
/// tie_word_embeddings is false. When tied, the head is embed_tokens and there is no lm_head parameter: loaders skip
/// a checkpoint's lm_head.weight (it is the same tensor).
/// </summary>
public abstract class DecoderForCausalLM : CausalLM
{
    public readonly DecoderModel model;
    public readonly Linear? lm_head;
    readonly LoraTarget[] _targets;

    /// <summary>LoRA targets per layer: q, k, v, o, gate, up, down.</summary>
    public const int TargetsPerLayer = 7;

    private protected DecoderForCausalLM(string name, ParamInit init, ModelConfig cfg) : base(name, cfg)
    {
        model = new DecoderModel(init, cfg);
        lm_head = cfg.TieWordEmbeddings ? null : new Linear(init, cfg.HiddenSize, cfg.VocabSize, false);
        RegisterComponents();
        int h = cfg.HiddenSize, q = cfg.NumAttentionHeads * cfg.HeadDim, kv = cfg.NumKeyValueHeads * cfg.HeadDim, inner = cfg.IntermediateSize;
        _targets = Enumerable.Range(0, cfg.NumHiddenLayers).SelectMany(i => new[]
        {
            new LoraTarget($"model.layers.{i}.self_attn.q_proj", i, h, q, false),
            new LoraTarget($"model.layers.{i}.self_attn.k_proj", i, h, kv, false),
            new LoraTarget($"model.layers.{i}.self_attn.v_proj", i, h, kv, false),
            new LoraTarget($"model.layers.{i}.self_attn.o_proj", i, q, h, false),
            new LoraTarget($"model.layers.{i}.mlp.gate_proj", i, h, inner, false),
            new LoraTarget($"model.layers.{i}.mlp.up_proj", i, h, inner, false),
            new LoraTarget($"model.layers.{i}.mlp.down_proj", i, inner, h, false),
        }).ToArray();
    }

    public override IReadOnlyList<LoraTarget> LoraTargets => _targets;

    internal static int TargetIndex(int layer, int slot) => layer * TargetsPerLayer + slot;

    public override LMOutput forward(LMInput input)
    {
        using var scope = NewDisposeScope();
        using var ctx = ForwardContext.Create(this, input);
        var hidden = model.Forward(ctx);                                           // [B, T, H]
        return Head(hidden, lm_head?.weight ?? model.embed_tokens.weight, input.LastLogitsOnly);
    }
}

/// <summary>HF Qwen2ForCausalLM (q/k/v bias, tied or untied head).</summary>
public sealed class Qwen2ForCausalLM : DecoderForCausalLM
{
    internal Qwen2ForCausalLM(ParamInit init, ModelConfig cfg) : base(nameof(Qwen2ForCausalLM), init, cfg) { }
}

/// <summary>HF LlamaForCausalLM (attention_bias / mlp_bias from config, rope_scaling llama3).</summary>
public sealed class LlamaForCausalLM : DecoderForCausalLM
{
    internal LlamaForCausalLM(ParamInit init, ModelConfig cfg) : base(nameof(LlamaForCausalLM), init, cfg) { }
}
