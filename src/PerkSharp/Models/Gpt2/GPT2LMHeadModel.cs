using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Gpt2;

/// <summary>
/// HF GPT2LMHeadModel. state_dict keys equal HF's: transformer.wte.weight, transformer.wpe.weight,
/// transformer.h.{i}.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}.{weight, bias} (Conv1D weights
/// [in, out]), transformer.ln_f.{weight, bias}. The LM head is tied to wte and has no parameter of its own: a
/// checkpoint's <c>lm_head.weight</c> (HF writes none; some tools do) is the same tensor as wte and loaders skip it.
/// </summary>
public sealed class GPT2LMHeadModel : CausalLM
{
    public readonly GPT2Model transformer;
    readonly LoraTarget[] _targets;

    /// <summary>LoRA targets per layer, in order: attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj.</summary>
    public const int TargetsPerLayer = 4;

    internal GPT2LMHeadModel(ParamInit init, ModelConfig cfg) : base(nameof(GPT2LMHeadModel), cfg)
    {
        // HF variants this port does not implement fail clearly instead of computing something else.
        if (cfg.Extra["scale_attn_weights"] is System.Text.Json.Nodes.JsonValue sw && sw.TryGetValue<bool>(out var scaled) && !scaled)
            throw new Runtime.PerkException("config.json: \"scale_attn_weights\": false is not supported (GPT-2 scales attention by 1/sqrt(head_dim))");
        if (cfg.Extra["scale_attn_by_inverse_layer_idx"] is System.Text.Json.Nodes.JsonValue si && si.TryGetValue<bool>(out var inv) && inv)
            throw new Runtime.PerkException("config.json: \"scale_attn_by_inverse_layer_idx\": true is not supported");
        transformer = new GPT2Model(init, cfg);
        RegisterComponents();
        int hd = cfg.HiddenSize, inner = cfg.IntermediateSize;
        _targets = Enumerable.Range(0, cfg.NumHiddenLayers).SelectMany(i => new[]
        {
            new LoraTarget($"transformer.h.{i}.attn.c_attn", i, hd, 3 * hd, true),
            new LoraTarget($"transformer.h.{i}.attn.c_proj", i, hd, hd, true),
            new LoraTarget($"transformer.h.{i}.mlp.c_fc", i, hd, inner, true),
            new LoraTarget($"transformer.h.{i}.mlp.c_proj", i, inner, hd, true),
        }).ToArray();
    }

    public override IReadOnlyList<LoraTarget> LoraTargets => _targets;

    internal static int TargetIndex(int layer, int slot) => layer * TargetsPerLayer + slot;

    public override LMOutput forward(LMInput input)
    {
        using var scope = NewDisposeScope();
        using var ctx = ForwardContext.Create(this, input);
        var hidden = transformer.Forward(ctx);                                     // [B, T, H]
        return Head(hidden, transformer.wte.weight, input.LastLogitsOnly);   // tied head
    }
}
