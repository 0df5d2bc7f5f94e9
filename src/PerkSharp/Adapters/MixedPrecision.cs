using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Adapters;

/// <summary>
/// The dtype boundary of bf16-mixed PERK, in one place. The official code runs a bf16 base under an fp32 adapter
/// (PEFT autocast_adapter_dtype=True, Lightning bf16-mixed): base weights and activations are bf16; the meta-parameters
/// (LoRA init, LSLR, weighting model), hence the inner-loop fast weights, their gradients and the differentiable AdamW
/// state, are fp32. Activations cross into fp32 at exactly three points:
/// <list type="number">
/// <item>LoRA (<see cref="LoraState.Apply"/>): x cast to the adapter dtype, B·A·x in fp32, <see cref="AddUpdate"/>.</item>
/// <item>Weighting model: it reads the final hidden state through <see cref="ToAdapter"/>.</item>
/// <item>Losses: cross-entropy of <see cref="LossLogits"/> (HF's ForCausalLMLoss upcasts with logits.float()).</item>
/// </list>
/// With equal dtypes (fp32/fp32, the fp64 gradient checks) every crossing is the identity and the ops are unchanged.
/// </summary>
public static class MixedPrecision
{
    /// <summary>bfloat16 / float16: dtypes that are only ever a base (compute) dtype, never an adapter dtype.</summary>
    public static bool IsReduced(ScalarType t) => t is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>Whether meta-parameters of <paramref name="adapter"/> may run on a base computing in <paramref name="baseType"/>.</summary>
    public static bool Compatible(ScalarType baseType, ScalarType adapter) =>
        !IsReduced(adapter) && (adapter == baseType || (baseType == ScalarType.BFloat16 && adapter == ScalarType.Float32));

    /// <summary>Throws the one-line user error for an unsupported base/adapter pair.</summary>
    public static void Check(ScalarType baseType, ScalarType adapter)
    {
        if (!Compatible(baseType, adapter))
            throw new PerkException($"meta-parameters are {adapter} but the model computes in {baseType}; they must match (float32 or " +
                                    "float64), or be Float32 on a BFloat16 base (bf16-mixed)");
    }

    /// <summary>x in the adapter dtype (an alias when it already is). PEFT: x = x.to(lora_A.weight.dtype) before dropout.</summary>
    public static Tensor ToAdapter(Tensor x, ScalarType adapter) => x.dtype == adapter ? x.alias() : x.to(adapter);

    /// <summary>
    /// baseOut + scale·update, returned in baseOut's dtype. baseOut: [..., out] (bf16), update: [..., out] (fp32).
    /// </summary>
    public static Tensor AddUpdate(Tensor baseOut, Tensor update, double scale)
    {
        if (baseOut.dtype == update.dtype) return scale == 1.0 ? baseOut.add(update) : baseOut.add(update, scale);
        // PEFT: result + lora_B(lora_A(x))·scaling promotes the bf16 base output to fp32, adds there, and casts the
        // sum back once (result.to(torch_result_dtype)): one bf16 rounding per adapted projection, not two.
        using var up = baseOut.to(update.dtype);
        using var sum = scale == 1.0 ? up.add(update) : up.add(update, scale);
        return sum.to(baseOut.dtype);
    }

    /// <summary>Logits [B, L, V] upcast to float32 for the losses when they are bf16/fp16; otherwise an alias.</summary>
    public static Tensor LossLogits(Tensor logits) => IsReduced(logits.dtype) ? logits.to(ScalarType.Float32) : logits.alias();
}
