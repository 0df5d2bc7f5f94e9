namespace PerkSharp.MetaLearning;

/// <summary>One finite-difference estimate of a derivative (see <see cref="FiniteDifference.Derivative"/>).</summary>
/// <param name="Value">The accepted extrapolation; when not <paramref name="Converged"/>, the best-agreeing one.</param>
/// <param name="Step">The smallest step h that went into <paramref name="Value"/>.</param>
/// <param name="Converged">Two successive extrapolations agreed within the requested bound.</param>
/// <param name="Disagreement">|R_k − R_(k−1)| where the refinement stopped (an error estimate of R_(k−1)).</param>
/// <param name="Evaluations">Objective evaluations spent.</param>
public readonly record struct DerivativeEstimate(double Value, double Step, bool Converged, double Disagreement, int Evaluations);

/// <summary>
/// Central differences whose step is refined until they have converged, instead of trusting one fixed h.
/// <para>
/// Why: the PERK objective runs the inner loop through AdamW, whose first step is lr·g/(|g| + ε) per element
/// (ε = 1e-8). Where an inner-gradient element g sits within a few ε of 0, the update is smooth but changes over a
/// range of width ~ε in g, i.e. ~ε/|∂g/∂x| in a meta-parameter x. If a step h spans that range, every fixed-h central
/// difference (Richardson-extrapolated or not) is off by orders of magnitude more than the tolerance, although the
/// analytic gradient is exact (measured on a random-weight GPT-2: |g| = 2e-9 in the first inner step, relative error
/// 4.7e-2 at h = 1e-6, 1.9e-9 once the step is refined to h = 3.1e-8).
/// </para>
/// </summary>
public static class FiniteDifference
{
    /// <summary>Default relative rounding of a float64 objective: 4 · 2⁻⁵³.</summary>
    public const double Float64Rounding = 4.0 / (1L << 53);

    /// <summary>
    /// d f/d δ at δ = 0 for f(δ) = objective(x0 + δ). Central differences C(s) = (f(s) − f(−s)) / 2s on s = h, h/2,
    /// h/4, …, each pair Richardson-extrapolated, R_k = (4 C(h/2^k) − C(h/2^(k−1))) / 3 (cancels the s² term); the
    /// first k ≥ 2 where R_k and R_(k−1) agree ends the refinement, in one of two ways:
    /// <list type="bullet">
    /// <item>|R_k − R_(k−1)| ≤ 2.25 δ/s_k, what the two can differ by from rounding alone (δ =
    /// <paramref name="relativeRounding"/> · |f| per evaluation, s_k = h/2^k: C(s) carries ≤ δ/s, R_k ≤ 1.5 δ/s_k).
    /// The truncation error is then below the noise, and R_(k−1), the less noisy one, is returned. A smooth objective
    /// stops here at k = 2 (6 evaluations) with R_1 = (4 C(h/2) − C(h))/3, the former fixed-step estimate.</item>
    /// <item>|R_k − R_(k−1)| ≤ <paramref name="agreement"/> · max(<paramref name="scale"/>, |R_k|): the estimates are
    /// still truncation-dominated but converged to the requested accuracy; R_k, the more accurate, is returned.</item>
    /// </list>
    /// When neither happens down to h/2^maxHalvings (the objective is not smooth at any scale the rounding resolves,
    /// e.g. a kink nearer than the smallest step), the best-agreeing R_k is returned with Converged = false.
    /// </summary>
    /// <param name="f">The objective as a function of the offset δ from the point of interest.</param>
    /// <param name="h">Initial step.</param>
    /// <param name="agreement">Relative agreement required of successive extrapolations.</param>
    /// <param name="scale">Gradient scale the agreement is relative to (e.g. the largest |analytic| compared).</param>
    /// <param name="relativeRounding">Relative rounding error of one evaluation of f (float64 default 4·2⁻⁵³: the PERK
    /// loss differences seen at tiny steps are quantised at 1 ulp and scatter over ~3 ulp).</param>
    /// <param name="maxHalvings">Halvings of h at most (≥ 2).</param>
    public static DerivativeEstimate Derivative(Func<double, double> f, double h, double agreement, double scale = 0,
                                                double relativeRounding = Float64Rounding, int maxHalvings = 10)
    {
        if (!(h > 0)) throw new ArgumentOutOfRangeException(nameof(h), "step must be > 0");
        if (maxHalvings < 2) throw new ArgumentOutOfRangeException(nameof(maxHalvings), "need at least 2 halvings");
        int evaluations = 0;
        double magnitude = 0;
        double Central(double s)
        {
            evaluations += 2;
            double up = f(s), down = f(-s);
            magnitude = Math.Max(magnitude, Math.Max(Math.Abs(up), Math.Abs(down)));
            return (up - down) / (2 * s);
        }

        double s = h, cPrev = Central(s), rPrev = double.NaN;
        DerivativeEstimate? best = null;
        for (int k = 1; k <= maxHalvings; k++)
        {
            s /= 2;
            double c = Central(s);
            double r = (4 * c - cPrev) / 3;
            if (k >= 2)
            {
                double d = Math.Abs(r - rPrev);
                // Within rounding: the truncation error is below the noise, and the coarser R_(k−1) is the less noisy.
                if (d <= 2.25 * relativeRounding * magnitude / s) return new DerivativeEstimate(rPrev, 2 * s, true, d, evaluations);
                // Above rounding but within the agreement: still truncation-dominated, and R_k is the more accurate.
                if (d <= agreement * Math.Max(scale, Math.Abs(r))) return new DerivativeEstimate(r, s, true, d, evaluations);
                if (best is null || !(d >= best.Value.Disagreement)) best = new DerivativeEstimate(r, s, false, d, evaluations);
            }
            cPrev = c; rPrev = r;
        }
        return best!.Value with { Evaluations = evaluations };
    }
}
