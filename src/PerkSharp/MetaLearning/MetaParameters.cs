using PerkSharp.Adapters;
using PerkSharp.Models;
using PerkSharp.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>
/// Everything PERK meta-learns, as one module: the LoRA initialisation ("lora"), the LSLR step sizes ("lslr") and the
/// token-weighting model ("weighting", absent when the weighted loss is off). The base model is not part of it.
/// named_parameters() gives stable names, e.g. "lora.A0", "lslr.lr3", "weighting.fc1.weight". Their dtype is the
/// model's, or float32 on a bfloat16 base (bf16-mixed, the official bf16 runs; see <see cref="MixedPrecision"/>).
/// </summary>
public sealed class MetaParameters : nn.Module
{
    public MetaParameters(CausalLM model, PerkSettings settings, ScalarType dtype = ScalarType.Float32, long? seed = null)
        : base("perk")
    {
        settings.Validate();
        MixedPrecision.Check(model.parameters().First().dtype, dtype);
        Settings = settings;
        Lora = new LoraAdapter(model.LoraTargets, model.Config, settings.Lora, dtype, seed);
        StepSizes = new LearnedStepSizes(Lora.Count, settings.InnerSteps, settings.InnerLr, settings.LearnedStepSizes, dtype);
        register_module("lora", Lora);
        register_module("lslr", StepSizes);
        if (settings.WeightedLoss)
        {
            using var gen = seed is long s ? new Generator((ulong)s + 1) : null;
            Weighting = new WeightingModel(model.Config.HiddenSize, settings.Nonlinearity, settings.WeightNormalize, dtype, gen);
            register_module("weighting", Weighting);
        }
    }

    public PerkSettings Settings { get; }
    public LoraAdapter Lora { get; }
    public LearnedStepSizes StepSizes { get; }
    public WeightingModel? Weighting { get; }

    /// <summary>Parameter dtype (float32, also on a bf16 base; float64 for gradient checks).</summary>
    public ScalarType DType => Lora.Initial[0].dtype;

    /// <summary>The meta-parameter kinds reported by gradient checks.</summary>
    public static string KindOf(string name) =>
        name.StartsWith("lora.A") ? "lora_A_init" :
        name.StartsWith("lora.B") ? "lora_B_init" :
        name.StartsWith("lslr.") ? "step_sizes" : "weighting_model";
}
