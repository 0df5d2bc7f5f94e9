using PerkSharp.Models;
using PerkSharp.Runtime;

namespace PerkSharp.Adapters;

/// <summary>
/// LoRA hyperparameters (PEFT LoraConfig as the official code sets it, docs/DESIGN.md): rank r, alpha, rsLoRA scaling
/// alpha/sqrt(r) (default, as the official code) or classic alpha/r, dropout 0.1, target module names matched against
/// the last component of each projection's HF name (PEFT's suffix match), optional restriction to the top-k layers.
/// </summary>
public sealed record LoraOptions
{
    public int Rank { get; init; } = 16;
    public double Alpha { get; init; } = 32;
    public bool UseRsLora { get; init; } = true;
    public double Dropout { get; init; } = 0.1;

    /// <summary>Module names to adapt; null = the official defaults of the model family (<see cref="DefaultTargets"/>).</summary>
    public IReadOnlyList<string>? TargetModules { get; init; }

    /// <summary>Adapt only the last k decoder layers (the paper's 7B/8B setting); null = every layer.</summary>
    public int? TopKLayers { get; init; }

    /// <summary>alpha/sqrt(r) with rsLoRA, alpha/r otherwise.</summary>
    public double Scale => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>GPT-2: c_attn, c_proj (attention and MLP), c_fc. Qwen2/Llama: q,k,v,o,gate,up,down projections.</summary>
    public static IReadOnlyList<string> DefaultTargets(ModelConfig config) => config.IsGpt2
        ? new[] { "c_attn", "c_proj", "c_fc" }
        : new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" };

    /// <summary>Checks ranges so that a bad value fails with one line, not inside libtorch.</summary>
    public void Validate(string source = "LoRA options")
    {
        if (Rank < 1) throw new PerkException($"{source}: LoRA rank must be >= 1 (got {Rank})");
        if (!(Alpha > 0) || !double.IsFinite(Alpha)) throw new PerkException($"{source}: LoRA alpha must be a positive number (got {Alpha})");
        if (!(Dropout >= 0 && Dropout < 1)) throw new PerkException($"{source}: LoRA dropout must be in [0, 1) (got {Dropout})");
        if (TopKLayers is int k && k < 1) throw new PerkException($"{source}: top-k layers must be >= 1 (got {k})");
        if (TargetModules is { Count: 0 }) throw new PerkException($"{source}: the LoRA target module list is empty");
    }
}
