using PerkSharp.Adapters;
using PerkSharp.MetaLearning;

namespace PerkSharp.Training;

/// <summary>
/// Turns the YAML keys into the engine's <see cref="PerkSettings"/>. The ablation switches are plain keys:
/// dyna_lr (learned vs fixed rates), weighted_loss (learned vs uniform token weights), unroll_start/inner_funct/
/// first_order (truncation depth), n_inner_iter (inner steps), lora_rank (rank).
/// </summary>
public static class PerkSettingsMapper
{
    public static PerkSettings ToSettings(TrainConfig c) => new()
    {
        Lora = new LoraOptions
        {
            Rank = c.LoraRank, Alpha = c.LoraAlpha, UseRsLora = c.UseRslora, Dropout = c.LoraDropout,
            TopKLayers = c.LoraTopKLayers > 0 ? c.LoraTopKLayers : null,
        },
        InnerSteps = c.NInnerIter,
        InnerLr = c.InnerLr,
        LearnedStepSizes = c.DynaLr,
        InnerOptimizer = c.InnerOpt == "sgd" ? InnerOptimizerKind.Sgd : InnerOptimizerKind.AdamW,
        InnerWeightDecay = c.WeightDecay,                      // the official code reuses the outer key (docs/DESIGN.md)
        InnerEps = c.AdamEpsilon,
        Mode = Mode(c),
        UnrollStart = c.InnerFunct == "truncated" ? c.UnrollStart : 0,
        TrainAccumulation = 1,                                 // hard-coded 1 at meta-train time in the official step()
        TestAccumulation = c.InnerGradAccum,
        Packing = c.Packing,
        WeightedLoss = c.WeightedLoss,
        Nonlinearity = c.WeightNonLinearity switch
        {
            "sigmoid" => WeightNonlinearity.Sigmoid,
            "exp" => WeightNonlinearity.Exp,
            "gelu" => WeightNonlinearity.Gelu,
            _ => WeightNonlinearity.Softplus,
        },
        WeightNormalize = c.WeightNormalize,
        OuterLr = c.LearningRate,
        OuterWeightDecay = c.WeightDecay,
        OuterEps = c.AdamEpsilon,
        MaxGradNorm = c.MaxGradNorm,
    };

    /// <summary>Meta-training loop mode: truncated, full second-order (default) or first-order (default + first_order).</summary>
    public static InnerLoopMode Mode(TrainConfig c) =>
        c.InnerFunct == "truncated" ? InnerLoopMode.Truncated : c.FirstOrder ? InnerLoopMode.FirstOrder : InnerLoopMode.Full;
}
