using PerkSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>Agreement of one meta-parameter kind's bf16-mixed meta-gradient g with the float64 reference r.</summary>
/// <param name="Elements">Number of gradient entries of this kind.</param>
/// <param name="RelativeError">‖g − r‖₂ / ‖r‖₂ over the whole kind (0 when both are exactly 0).</param>
/// <param name="Cosine">g·r / (‖g‖ ‖r‖) (1 when both are exactly 0).</param>
/// <param name="NormRatio">‖g‖ / ‖r‖.</param>
/// <param name="ReferenceNorm">‖r‖₂.</param>
/// <param name="ExactlyZero">Both gradients exactly 0 (the weighting model in first-order mode).</param>
public sealed record MixedKindCheck(string Kind, long Elements, double RelativeError, double Cosine, double NormRatio,
                                    double ReferenceNorm, bool ExactlyZero);

/// <summary>
/// Compares the bf16-mixed analytic meta-gradient (bf16 base, fp32 meta-parameters) with the float64 analytic
/// meta-gradient of the same problem: the same base weights (the bf16 values, widened exactly), the same
/// meta-parameter values, inputs and mode, dropout off. The float64 gradient is itself verified against finite
/// differences by <see cref="GradientCheck"/>, so this measures what bf16 arithmetic costs.
/// </summary>
public static class MixedPrecisionCheck
{
    /// <summary>
    /// Default bound on <see cref="MixedKindCheck.RelativeError"/>. bf16 keeps 8 significant bits: each rounding is a
    /// relative error ≤ u = 2⁻⁸ ≈ 3.9e-3. The meta-gradient of the 2-layer check problem passes through roughly 30–60
    /// bf16 roundings on its longest path (about six cast points per layer in the forward, as many in the inner and
    /// the outer backward); independent roundings add in quadrature: √(30…60)·u ≈ 0.02–0.03, which is what tiny
    /// GPT-2/Qwen2 models measure (worst 3.0e-2 over 8 seeds × 3 modes × both). 5e-2 ≈ 13u keeps 1.7× margin and implies a
    /// cosine ≥ 1 − 0.05²/2 ≈ 0.9987; a wrong cast point, a lost term or a detached path gives O(1) errors.
    /// </summary>
    public const double Tolerance = 5e-2;

    /// <summary>
    /// The check problem's settings with a smooth inner update (SGD, lr 1e-2). AdamW with ε = 1e-8 is a near-sign
    /// function of the inner gradient: ∂/∂g of g/(|g|+ε) reaches 1/(4ε) at entries |g| ≈ ε, so the rounding of those
    /// entries is amplified without bound (even fp32 vs fp64 differs by up to 1e-2 on this problem). That measures the
    /// objective's conditioning, not the dtype boundary; the SGD update is linear in g and exposes only the latter.
    /// </summary>
    public static PerkSettings Settings(ModelConfig config) =>
        GradientCheckProblem.Settings(config) with { InnerOptimizer = InnerOptimizerKind.Sgd, InnerLr = 1e-2 };

    /// <summary>
    /// Builds fp32 meta-parameters on <paramref name="mixedModel"/> (seeded, <see cref="GradientCheck.Perturb"/>ed),
    /// their float64 twin on a float64 twin of the model, and compares the two meta-gradients per kind.
    /// </summary>
    public static List<MixedKindCheck> Run(CausalLM mixedModel, PerkSettings settings, long seed, IReadOnlyList<TokenBatch> context,
                                           TokenBatch question, InnerLoopMode mode)
    {
        using var reference = Float64Twin(mixedModel);
        using var meta = new MetaParameters(mixedModel, settings, ScalarType.Float32, seed);
        GradientCheck.Perturb(meta, seed);
        using var meta64 = new MetaParameters(reference, settings, ScalarType.Float64, seed);
        CopyValues(meta, meta64);
        return Compare(mixedModel, meta, reference, meta64, context, question, mode);
    }

    public static List<MixedKindCheck> Compare(CausalLM mixedModel, MetaParameters mixedMeta, CausalLM referenceModel, MetaParameters referenceMeta,
                                               IReadOnlyList<TokenBatch> context, TokenBatch question, InnerLoopMode mode)
    {
        if (mode == InnerLoopMode.Evaluation) throw new ArgumentException("evaluation mode has no meta-gradient");
        var g = MetaGradient(mixedModel, mixedMeta, context, question, mode);
        var r = MetaGradient(referenceModel, referenceMeta, context, question, mode);
        try
        {
            var checks = new List<MixedKindCheck>();
            foreach (var kind in GradientCheck.Kinds)
            {
                var names = g.Keys.Where(n => MetaParameters.KindOf(n) == kind).ToList();
                if (names.Count == 0) continue;
                using var scope = NewDisposeScope();
                var a = cat(names.Select(n => g[n].reshape(-1)).ToArray());
                var b = cat(names.Select(n => r[n].reshape(-1)).ToArray());
                double na = a.norm().ToDouble(), nb = b.norm().ToDouble(), diff = (a - b).norm().ToDouble();
                bool zero = na == 0 && nb == 0;
                double rel = zero ? 0 : nb > 0 ? diff / nb : double.PositiveInfinity;
                double cos = zero ? 1 : na > 0 && nb > 0 ? a.dot(b).ToDouble() / (na * nb) : 0;
                double ratio = zero ? 1 : nb > 0 ? na / nb : double.PositiveInfinity;
                checks.Add(new MixedKindCheck(kind, a.numel(), rel, cos, ratio, nb, zero));
            }
            return checks;
        }
        finally { foreach (var t in g.Values.Concat(r.Values)) t.Dispose(); }
    }

    /// <summary>
    /// d(outer loss)/d(meta-parameters) after the inner loop in <paramref name="mode"/>, dropout off, as float64
    /// (zeros for parameters the loss does not reach). The parameters' .grad is cleared again afterwards.
    /// </summary>
    public static Dictionary<string, Tensor> MetaGradient(CausalLM model, MetaParameters meta, IReadOnlyList<TokenBatch> context,
                                                          TokenBatch question, InnerLoopMode mode)
    {
        meta.zero_grad();
        using (var scope = NewDisposeScope())
        {
            using var result = InnerLoop.Run(model, meta, context, mode, dropout: false);
            InnerLoop.AnswerLoss(model, meta, result.FastWeights, question, dropout: false).backward();
        }
        var grads = meta.named_parameters().ToDictionary(x => x.name,
            x => x.parameter.grad is Tensor gr ? gr.detach().to(ScalarType.Float64) : zeros(x.parameter.shape, ScalarType.Float64));
        meta.zero_grad();
        return grads;
    }

    /// <summary>A float64 copy of <paramref name="model"/> with exactly its (e.g. bf16) weight values.</summary>
    public static CausalLM Float64Twin(CausalLM model)
    {
        var twin = ModelFactory.CreateForLoading(model.Config, ScalarType.Float64);
        var source = model.state_dict();
        using var _ = no_grad();
        foreach (var (name, t) in twin.state_dict()) t.copy_(source[name]);
        return twin;
    }

    /// <summary>Copies every meta-parameter value of <paramref name="from"/> into <paramref name="to"/> (dtype converted; same layout).</summary>
    public static void CopyValues(MetaParameters from, MetaParameters to)
    {
        using var _ = no_grad();
        foreach (var (name, p) in to.named_parameters()) p.copy_(from.get_parameter(name)!);
    }
}
