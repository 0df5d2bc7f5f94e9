using PerkSharp.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>
/// LSLR (MAML++ "per-layer per-step learning rates", docs/DESIGN.md): one learnable vector of length n_inner_iter
/// per LoRA fast tensor (A and B separately), initialised to inner_lr, meta-learned with no weight decay and no
/// clamping. With <c>learned = false</c> every step uses the fixed inner_lr (a constant, not a parameter).
/// </summary>
public sealed class LearnedStepSizes : nn.Module
{
    readonly int _tensors;

    public LearnedStepSizes(int tensors, int innerSteps, double innerLr, bool learned = true, ScalarType dtype = ScalarType.Float32)
        : base("lslr")
    {
        if (innerSteps < 1) throw new PerkException($"inner steps must be >= 1 (got {innerSteps})");
        if (!(innerLr > 0) || !double.IsFinite(innerLr)) throw new PerkException($"inner learning rate must be > 0 (got {innerLr})");
        _tensors = tensors;
        InnerSteps = innerSteps;
        InnerLr = innerLr;
        Learned = learned;
        if (learned)
            for (int i = 0; i < tensors; i++)
                register_parameter($"lr{i}", new Parameter(full(innerSteps, innerLr, dtype), requires_grad: true));
    }

    public int InnerSteps { get; }
    public double InnerLr { get; }
    public bool Learned { get; }

    /// <summary>The step-size vectors [n_inner_iter], one per fast tensor (empty when fixed).</summary>
    public IReadOnlyList<Parameter> Rates => Learned
        ? Enumerable.Range(0, _tensors).Select(i => get_parameter($"lr{i}")!).ToList()
        : Array.Empty<Parameter>();

    /// <summary>
    /// The step size of every fast tensor at inner step <paramref name="step"/>: 0-d tensors that carry gradient to
    /// the LSLR vectors when learned, constants otherwise. The caller disposes them (or their scope does).
    /// </summary>
    public List<Tensor> At(int step, ScalarType dtype)
    {
        if (step < 0 || step >= InnerSteps) throw new ArgumentOutOfRangeException(nameof(step));
        var list = new List<Tensor>(_tensors);
        if (Learned) foreach (var p in Rates) list.Add(p[step]);
        else for (int i = 0; i < _tensors; i++) list.Add(tensor(InnerLr, dtype));
        return list;
    }
}
