using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>
/// A differentiable optimizer in the style of <c>higher</c>'s DifferentiableOptimizer.step: functional (returns new
/// parameter tensors, never writes into graph tensors), with tensor-valued learning rates (one 0-d tensor per
/// parameter, e.g. LSLR entries that carry gradient). Its state is fresh per example: make one per inner loop.
/// Returned tensors live in the caller's dispose scope; its own state is detached from every scope (it must survive
/// the per-step scope of the inner loop) and released on replacement or by <see cref="IDisposable.Dispose"/>.
/// </summary>
public interface IDifferentiableOptimizer : IDisposable
{
    /// <summary>Number of updates applied so far (the Adam step counter k).</summary>
    int StepCount { get; }

    /// <summary>One update: p_new = update(p, g, lr). grads, parameters and lrs are parallel lists.</summary>
    List<Tensor> Step(IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> lrs);
}

/// <summary>
/// Differentiable AdamW exactly as docs/DESIGN.md (torch.optim.AdamW semantics):
/// p ← p·(1 − lr·wd); m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − (lr / (1−β1^k)) · m / (√v/√(1−β2^k) + ε).
/// √v is taken with a double-where so that at v = 0 its value is 0 and its derivative (of every order) is 0 instead
/// of ∞ (higher's v == 0 gradient mask, made safe for double backward: no 0·∞ = NaN).
/// </summary>
public sealed class DifferentiableAdamW : IDifferentiableOptimizer
{
    readonly double _beta1, _beta2, _eps, _wd;
    Tensor?[] _m = Array.Empty<Tensor?>(), _v = Array.Empty<Tensor?>();

    public DifferentiableAdamW(double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8, double weightDecay = 0.01)
    {
        _beta1 = beta1; _beta2 = beta2; _eps = eps; _wd = weightDecay;
    }

    public int StepCount { get; private set; }

    /// <summary>The moment estimates m and v held now (their dtype follows the fast weights': fp32 under bf16-mixed).</summary>
    internal IEnumerable<Tensor> State => _m.Concat(_v).OfType<Tensor>();

    public List<Tensor> Step(IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> lrs)
    {
        if (grads.Count != parameters.Count || lrs.Count != parameters.Count)
            throw new ArgumentException("grads, parameters and learning rates must be parallel lists");
        if (_m.Length == 0) { _m = new Tensor?[parameters.Count]; _v = new Tensor?[parameters.Count]; }
        StepCount++;
        int k = StepCount;
        double bc1 = 1 - Math.Pow(_beta1, k);
        double sqrtBc2 = Math.Sqrt(1 - Math.Pow(_beta2, k));
        var result = new List<Tensor>(parameters.Count);
        for (int i = 0; i < parameters.Count; i++)
        {
            var g = grads[i];
            var lr = lrs[i];
            using var scope = NewDisposeScope();
            var p = _wd != 0 ? parameters[i] * (1 - lr * _wd) : parameters[i].alias();
            var m = _m[i] is null ? g * (1 - _beta1) : _m[i]! * _beta1 + g * (1 - _beta1);
            var v = _v[i] is null ? g * g * (1 - _beta2) : _v[i]! * _beta2 + g * g * (1 - _beta2);
            var denom = SafeSqrt(v) / sqrtBc2 + _eps;
            var pNew = p - (lr / bc1) * m / denom;
            _m[i]?.Dispose(); _v[i]?.Dispose();
            // State outlives the caller's per-step scope: owned here, released on replacement or Dispose.
            _m[i] = m.DetachFromDisposeScope();
            _v[i] = v.DetachFromDisposeScope();
            result.Add(pNew.MoveToOuterDisposeScope());
        }
        return result;
    }

    /// <summary>√v with value 0 and all derivatives 0 where v = 0 (v ≥ 0 always).</summary>
    internal static Tensor SafeSqrt(Tensor v)
    {
        if (!v.requires_grad) return v.sqrt();
        using var scope = NewDisposeScope();
        var positive = v.gt(0);
        var safe = where(positive, v, ones_like(v));
        return where(positive, safe.sqrt(), zeros_like(v)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in _m) t?.Dispose();
        foreach (var t in _v) t?.Dispose();
        _m = _v = Array.Empty<Tensor?>();
    }
}

/// <summary>
/// Differentiable plain SGD with torch.optim.SGD semantics (L2 weight decay folded into the gradient):
/// p ← p − lr · (g + wd·p). No state.
/// </summary>
public sealed class DifferentiableSgd : IDifferentiableOptimizer
{
    readonly double _wd;

    public DifferentiableSgd(double weightDecay = 0.0) { _wd = weightDecay; }

    public int StepCount { get; private set; }

    public List<Tensor> Step(IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> lrs)
    {
        if (grads.Count != parameters.Count || lrs.Count != parameters.Count)
            throw new ArgumentException("grads, parameters and learning rates must be parallel lists");
        StepCount++;
        var result = new List<Tensor>(parameters.Count);
        for (int i = 0; i < parameters.Count; i++)
        {
            using var scope = NewDisposeScope();
            var g = _wd != 0 ? grads[i] + parameters[i] * _wd : grads[i];
            result.Add((parameters[i] - lrs[i] * g).MoveToOuterDisposeScope());
        }
        return result;
    }

    public void Dispose() { }
}
