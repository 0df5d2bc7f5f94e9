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
public sealed record KindCheck(string Kind, int Coordinates, double MaxRelativeError, double MaxAbsGradient, bool ExactlyZero);

/// <summary>
/// Finite-difference verification of the meta-gradient (float64 recommended). The objective is the outer loss after
/// the inner loop in the given mode with dropout off; for truncated and first-order modes it is the surrogate whose
/// detached inner gradients are held at their recorded values (that is what the analytic meta-gradient differentiates).
/// </summary>
public static class GradientCheck
{
    public static readonly string[] Kinds = { "lora_A_init", "lora_B_init", "step_sizes", "weighting_model" };

    /// <param name="coordinatesPerKind">Random coordinates compared per kind.</param>
    /// <param name="step">Central-difference step h (relative to max(1, |x|)); Richardson-extrapolated with h/2.</param>
    public static List<KindCheck> Run(CausalLM model, MetaParameters meta, IReadOnlyList<TokenBatch> context, TokenBatch question,
                                      InnerLoopMode mode, int coordinatesPerKind = 6, long seed = 1, double step = 1e-6,
                                      Action<string>? log = null)
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
            double maxDiff = 0, maxMag = 0, maxA = 0;
            for (int c = 0; c < coordinatesPerKind; c++)
            {
                var (name, p) = members[rng.Next(members.Count)];
                long idx = rng.NextInt64(p.numel());
                double a = analytic[name] is Tensor g ? g.reshape(-1)[idx].ToDouble() : 0.0;
                double x0 = Get(p, idx);
                double h = step * Math.Max(1.0, Math.Abs(x0));
                double Central(double hh)
                {
                    Set(p, idx, x0 + hh); double up = Objective();
                    Set(p, idx, x0 - hh); double down = Objective();
                    Set(p, idx, x0);
                    return (up - down) / (2 * hh);
                }
                // Richardson extrapolation of central differences (h and h/2) cancels the h² error term: Adam's
                // normalisation g/(|g|+ε) makes the objective strongly curved at small gradients.
                double f = (4 * Central(h / 2) - Central(h)) / 3;
                maxDiff = Math.Max(maxDiff, Math.Abs(a - f));
                maxMag = Math.Max(maxMag, Math.Max(Math.Abs(a), Math.Abs(f)));
                maxA = Math.Max(maxA, Math.Abs(a));
                log?.Invoke($"{kind} {name}[{idx}] analytic {a:E6} numeric {f:E6}");
            }
            double rel = maxMag > 0 ? maxDiff / maxMag : 0.0;
            checks.Add(new KindCheck(kind, coordinatesPerKind, rel, maxA, allZero));
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
