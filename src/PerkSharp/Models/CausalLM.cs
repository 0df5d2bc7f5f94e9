using PerkSharp.Adapters;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Models;

/// <summary>Inputs of one causal-LM forward pass.</summary>
/// <param name="InputIds">[B, T] int64 token ids.</param>
/// <param name="PositionIds">[B, T] int64; may restart inside a row (packed segments). Null: 0..T-1 after the cache.</param>
/// <param name="AttentionMask">
/// [B, Tpast + T] int64. 0 = padding (never attended). Positive values are segment ids: a query attends to an earlier
/// key only when both carry the same segment id, which gives the block-diagonal causal mask of packed segments.
/// An HF-style 0/1 mask is the one-segment special case. Null: everything visible (causal only).
/// </param>
public sealed record LMInput(Tensor InputIds, Tensor? PositionIds = null, Tensor? AttentionMask = null)
{
    /// <summary>LoRA fast weights to run with (may carry autograd graph); null runs the frozen base model.</summary>
    public LoraState? Lora { get; init; }

    /// <summary>KV cache for incremental decoding; appended to in place when given.</summary>
    public KvCache? Cache { get; init; }

    /// <summary>
    /// Allow the fused scaled-dot-product kernel. Only for inference: it cannot be differentiated twice on CPU
    /// (libtorch aborts the process), so every training path leaves this false and gets explicit attention.
    /// </summary>
    public bool AllowFusedAttention { get; init; }

    /// <summary>Compute logits only for the last position (generation prefill saves the [B, T, V] projection).</summary>
    public bool LastLogitsOnly { get; init; }
}

/// <summary>Outputs of one forward pass. The caller owns (and disposes) both tensors.</summary>
/// <param name="Logits">[B, T, V] (or [B, 1, V] with LastLogitsOnly).</param>
/// <param name="LastHidden">[B, T, H], the last hidden state after the final norm (HF hidden_states[-1]).</param>
public sealed record LMOutput(Tensor Logits, Tensor LastHidden);

/// <summary>One projection a LoRA adapter can be attached to.</summary>
/// <param name="Name">HF module path, e.g. "transformer.h.0.attn.c_attn" or "model.layers.3.mlp.down_proj".</param>
/// <param name="Layer">Decoder layer index (for top-k-layer restriction).</param>
/// <param name="InFeatures">Input width of the projection.</param>
/// <param name="OutFeatures">Output width of the projection.</param>
/// <param name="FanInFanOut">True for GPT-2 Conv1D (base weight stored [in, out]), as PEFT's fan_in_fan_out.</param>
public sealed record LoraTarget(string Name, int Layer, int InFeatures, int OutFeatures, bool FanInFanOut);

/// <summary>
/// A Hugging Face-compatible causal language model. Module fields are named like the checkpoint keys so that
/// state_dict() keys equal the HF keys 1:1. Base weights are frozen (requires_grad = false): meta-learning only ever
/// differentiates through them, never into them.
/// </summary>
public abstract class CausalLM : nn.Module<LMInput, LMOutput>
{
    protected CausalLM(string name, ModelConfig config) : base(name) { Config = config; }

    public ModelConfig Config { get; }

    /// <summary>Every projection LoRA may target, in a fixed order; LoraState indexes by this order.</summary>
    public abstract IReadOnlyList<LoraTarget> LoraTargets { get; }

    /// <summary>Number of decoder layers.</summary>
    public int NumLayers => Config.NumHiddenLayers;

    /// <summary>
    /// The LM head shared by every architecture: logits = hidden · W_headᵀ for all positions or only the last one.
    /// Call inside the forward's dispose scope; both returned tensors are moved out of it. hidden: [B, T, H].
    /// </summary>
    protected static LMOutput Head(Tensor hidden, Tensor headWeight, bool lastLogitsOnly)
    {
        using var last = lastLogitsOnly ? hidden.narrow(1, hidden.shape[1] - 1, 1) : hidden.alias();
        var logits = nn.functional.linear(last, headWeight);                       // [B, T or 1, V]
        return new LMOutput(logits.MoveToOuterDisposeScope(), hidden.MoveToOuterDisposeScope());
    }

    /// <summary>Creates an empty KV cache for this model's layer count.</summary>
    public KvCache NewCache() => new KvCache(NumLayers);
}
