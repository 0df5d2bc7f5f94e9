using PerkSharp.Adapters;
using PerkSharp.Runtime;

namespace PerkSharp.MetaLearning;

/// <summary>How the inner loop's gradients enter the meta-gradient (docs/DESIGN.md).</summary>
public enum InnerLoopMode
{
    /// <summary>Every step second-order (create_graph on all inner gradients).</summary>
    Full,
    /// <summary>Gradients of steps &lt; unroll_start detached, later steps second-order; the update path always kept.</summary>
    Truncated,
    /// <summary>All inner gradients detached (FOMAML-like; the identity and step-size paths remain).</summary>
    FirstOrder,
    /// <summary>Test time: no graph at all; fast weights are detached leaves.</summary>
    Evaluation,
}

/// <summary>The inner optimizer family.</summary>
public enum InnerOptimizerKind { AdamW, Sgd }

/// <summary>
/// Every PERK hyperparameter the engine needs, defaulting to the official meta_train.yaml values (docs/DESIGN.md)
/// except the LoRA rank/alpha (which the caller sets per model).
/// </summary>
public sealed record PerkSettings
{
    public LoraOptions Lora { get; init; } = new();

    // Inner loop
    public int InnerSteps { get; init; } = 4;
    public double InnerLr { get; init; } = 5e-5;
    public bool LearnedStepSizes { get; init; } = true;
    public InnerOptimizerKind InnerOptimizer { get; init; } = InnerOptimizerKind.AdamW;
    public double InnerWeightDecay { get; init; } = 0.01;
    public double InnerBeta1 { get; init; } = 0.9;
    public double InnerBeta2 { get; init; } = 0.95;
    public double InnerEps { get; init; } = 1e-8;
    public InnerLoopMode Mode { get; init; } = InnerLoopMode.Truncated;
    public int UnrollStart { get; init; } = 2;
    /// <summary>Inner gradient accumulation during meta-training (official: 1).</summary>
    public int TrainAccumulation { get; init; } = 1;
    /// <summary>Inner gradient accumulation at test time (official meta_test: 4).</summary>
    public int TestAccumulation { get; init; } = 4;
    public bool Packing { get; init; }
    public PackedNormalization PackedNormalization { get; init; } = PackedNormalization.AsSeparate;

    // Token weighting
    public bool WeightedLoss { get; init; } = true;
    public WeightNonlinearity Nonlinearity { get; init; } = WeightNonlinearity.Softplus;
    public bool WeightNormalize { get; init; }

    // Outer loop
    public double OuterLr { get; init; } = 1e-5;
    public double OuterWeightDecay { get; init; } = 0.01;
    public double OuterBeta1 { get; init; } = 0.9;
    public double OuterBeta2 { get; init; } = 0.95;
    public double OuterEps { get; init; } = 1e-8;
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Dropout (LoRA and base) active during meta-training and test-time adaptation, as the official code.</summary>
    public bool TrainDropout { get; init; } = true;

    /// <summary>One-line errors for out-of-range values.</summary>
    public void Validate(string source = "settings")
    {
        Lora.Validate(source);
        if (InnerSteps < 1) throw new PerkException($"{source}: inner steps must be >= 1 (got {InnerSteps})");
        if (!(InnerLr > 0)) throw new PerkException($"{source}: inner learning rate must be > 0 (got {InnerLr})");
        if (UnrollStart < 0 || UnrollStart > InnerSteps)
            throw new PerkException($"{source}: unroll_start must be in [0, inner steps = {InnerSteps}] (got {UnrollStart})");
        if (TrainAccumulation < 1 || TestAccumulation < 1) throw new PerkException($"{source}: gradient accumulation must be >= 1");
        if (!(InnerBeta1 is >= 0 and < 1) || !(InnerBeta2 is >= 0 and < 1)) throw new PerkException($"{source}: inner betas must be in [0, 1)");
        if (!(OuterLr > 0)) throw new PerkException($"{source}: outer learning rate must be > 0 (got {OuterLr})");
        if (!(MaxGradNorm > 0)) throw new PerkException($"{source}: max grad norm must be > 0 (got {MaxGradNorm})");
    }
}
