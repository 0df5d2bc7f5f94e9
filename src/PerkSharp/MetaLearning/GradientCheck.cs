using PerkSharp.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>Agreement of one meta-parameter kind's analytic gradient with central finite differences.</summary>
/// <param name="Kind">lora_A_init | lora_B_init | step_sizes | weighting_model.</param>
/// <param name="Coordinates">Number of coordinates compared.</param>
/// <param name="MaxRelativeError">max_i |a_i − f_i| / max_i max(|a_i|, |f_i|) over the sampled coordinates.</param>
/// <param name="MaxAbsGradient">Largest |analytic gradient| among the sampled coordinates.</param>
/// <param name="ExactlyZero">True when every analytic gradient entry of this kind (not only the sample) is exactly 0.</param>
/// <param name="Refined">Coordinates whose finite differences converged only at a step below h/2 (steep objective).</param>
/// <param name="SmallestStep">Smallest finite-difference step h among the compared coordinates.</param>
/// <param name="Unresolved">Drawn coordinates whose finite differences never converged (not smooth at the resolution
/// float64 allows), replaced by further draws; counted in the error only when too few coordinates converged.</param>
public sealed record KindCheck(string Kind, int Coordinates, double MaxRelativeError, double MaxAbsGradient, bool ExactlyZero,
                               int Refined = 0, double SmallestStep = 0, int Unresolved = 0);

/// <summary>
/// Finite-difference verification of the meta-gradient (float64 recommended). The objective is the outer loss after
/// the inner loop in the given mode with dropout off; for truncated and first-order modes it is the surrogate whose
/// detached inner gradients are held at their recorded values (that is what the analytic meta-gradient differentiates).
/// Each coordinate's step is refined until its finite differences converge (<see cref="FiniteDifference"/>: AdamW's
/// g/(|g|+ε) makes the objective steep where an inner-gradient element is near 0); a coordinate where they never do is
/// reported as unresolved and replaced by another.
/// </summary>
public static class GradientCheck
{
    public static readonly string[] Kinds = { "lora_A_init", "lora_B_init", "step_sizes", "weighting_model" };

    /// <param name="coordinatesPerKind">Random coordinates compared per kind.</param>
    /// <param name="step">Initial central-difference step h (relative to max(1, |x|)), refined per coordinate by
    /// <see cref="FiniteDifference.Derivative"/> until successive Richardson extrapolations agree.</param>
    /// <param name="agreement">Agreement required of successive extrapolations, relative to the kind's largest sampled
    /// |analytic gradient| (a tenth of the usual 1e-5 tolerance).</param>
    public static List<KindCheck> Run(CausalLM model, MetaParameters meta, IReadOnlyList<TokenBatch> context, TokenBatch question,
                                      InnerLoopMode mode, int coordinatesPerKind = 6, long seed = 1, double step = 1e-6,
                                      Action<string>? log = null, double agreement = 1e-6)
    {
        if (mode == InnerLoopMode.Evaluation) throw new ArgumentException("evaluation mode has no meta-gradient");
        var named = meta.named_parameters().ToList();
        using var recorded = new DetachedGradients();

        // Analytic meta-gradient (loss.backward: parameters the loss does not reach keep a null/zero gradient).
        meta.zero_grad();
        using (var scope = NewDisposeScope())
        {
            using var result = InnerLoop.Run(model, meta, context, mode, dropout: false, recorded: recorded);
            var loss = InnerLoop.AnswerLoss(model, meta, result.FastWeights, question, dropout: false);
            loss.backward();
        }
        var analytic = new Dictionary<string, Tensor?>();
        foreach (var (name, p) in named) analytic[name] = p.grad?.detach().clone();

        double Objective()
        {
            using var scope = NewDisposeScope();
            using var result = InnerLoop.Run(model, meta, context, mode, dropout: false, replay: recorded);
            using var _ = no_grad();
            return InnerLoop.AnswerLoss(model, meta, result.FastWeights, question, dropout: false).ToDouble();
        }

        var rng = new Random((int)seed);
        var checks = new List<KindCheck>();
        foreach (var kind in Kinds)
        {
            var members = named.Where(n => MetaParameters.KindOf(n.name) == kind).ToList();
            if (members.Count == 0) continue;
            bool allZero = members.All(m => analytic[m.name] is null || analytic[m.name]!.count_nonzero().ToInt64() == 0);
            // --- Converged finite differences (FiniteDifference.Derivative). The first coordinatesPerKind draws are
            // the same coordinates as with a single fixed step; one whose differences never converge is replaced by a
            // further draw (from its own generator), at most 2·coordinatesPerKind of them. ---
            (string name, Parameter p, long idx) Draw(Random r)
            {
                var (name, p) = members[r.Next(members.Count)];
                return (name, p, r.NextInt64(p.numel()));
            }
            double Analytic((string name, Parameter p, long idx) d) => analytic[d.name] is Tensor g ? g.reshape(-1)[d.idx].ToDouble() : 0.0;
            var draws = Enumerable.Range(0, coordinatesPerKind).Select(_ => Draw(rng)).ToList();
            double scale = draws.Max(d => Math.Abs(Analytic(d)));
            var spare = new Random(unchecked((int)seed * 31 + Array.IndexOf(Kinds, kind) + 1));
            double relativeRounding = meta.DType == ScalarType.Float64 ? FiniteDifference.Float64Rounding : 4.0 / (1 << 24);
            var compared = new List<(double a, double f, double h, bool refined)>();
            var unresolved = new List<(double a, double f, double h, bool refined)>();
            for (int c = 0; c < draws.Count && compared.Count < coordinatesPerKind; c++)
            {
                var (name, p, idx) = draws[c];
                double a = Analytic(draws[c]);
                double x0 = Get(p, idx);
                double Shifted(double dx) { Set(p, idx, x0 + dx); try { return Objective(); } finally { Set(p, idx, x0); } }
                double h = step * Math.Max(1.0, Math.Abs(x0));
                var fd = FiniteDifference.Derivative(Shifted, h, agreement, scale, relativeRounding);
                log?.Invoke($"{kind} {name}[{idx}] analytic {a:E6} numeric {fd.Value:E6} h {fd.Step:E1}" +
                            (fd.Converged ? "" : $" unresolved: successive estimates still differ by {fd.Disagreement:E1}"));
                if (fd.Converged) compared.Add((a, fd.Value, fd.Step, fd.Step < h / 2));
                else
                {
                    unresolved.Add((a, fd.Value, fd.Step, true));
                    if (draws.Count < 3 * coordinatesPerKind) draws.Add(Draw(spare));
                }
            }
            // Too few converged: the unresolved ones are judged too, on their best estimates (a kind is never judged on
            // fewer coordinates than asked for).
            var judged = compared.Concat(compared.Count < coordinatesPerKind ? unresolved : new()).ToList();
            double maxDiff = judged.Max(x => Math.Abs(x.a - x.f));
            double maxMag = judged.Max(x => Math.Max(Math.Abs(x.a), Math.Abs(x.f)));
            double maxA = judged.Max(x => Math.Abs(x.a));
            double rel = maxMag > 0 ? maxDiff / maxMag : 0.0;
            checks.Add(new KindCheck(kind, judged.Count, rel, maxA, allZero, Refined: compared.Count(x => x.refined),
                                     SmallestStep: judged.Min(x => x.h), Unresolved: unresolved.Count));
        }
        foreach (var t in analytic.Values) t?.Dispose();
        meta.zero_grad();
        return checks;
    }

    static double Get(Parameter p, long idx)
    {
        using var _ = no_grad();
        using var flat = p.reshape(-1);
        using var e = flat[idx];
        return e.ToDouble();
    }

    static void Set(Parameter p, long idx, double value)
    {
        using var _ = no_grad();
        using var flat = p.view(-1);
        using var e = flat[idx];
        e.fill_(value);
    }

    /// <summary>
    /// Moves the meta-parameters away from their degenerate initialisation (B = 0 and a zero fc2 make several
    /// gradients vanish) so that every kind is tested non-trivially: B ~ N(0, scale²), fc2 ~ N(0, scale²), and the
    /// step sizes jittered by ±10 %.
    /// </summary>
    public static void Perturb(MetaParameters meta, long seed, double scale = 0.05)
    {
        using var gen = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (name, p) in meta.named_parameters())
        {
            if (name.StartsWith("lora.B") || name.StartsWith("weighting.fc2"))
            {
                using var r = randn(p.shape, p.dtype, generator: gen);
                p.add_(r * scale);
            }
            else if (name.StartsWith("lslr."))
            {
                using var r = rand(p.shape, p.dtype, generator: gen);
                p.mul_(r * 0.2 + 0.9);
            }
        }
    }
}
