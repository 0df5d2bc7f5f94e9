using PerkSharp.Runtime;

namespace PerkSharp.Evaluation;

/// <summary>
/// The Wilson score interval for a binomial proportion (k successes of n). Chosen over the normal approximation
/// because it stays inside [0, 1] and is not degenerate at k = 0 or k = n, which small test sets hit often.
/// </summary>
public static class Wilson
{
    /// <summary>z for a two-sided 95% interval.</summary>
    public const double Z95 = 1.96;

    /// <summary>(lo, hi) as fractions; n = 0 gives (0, 1): no data, no information.</summary>
    public static (double Lo, double Hi) Interval(int k, int n, double z = Z95)
    {
        if (n < 0 || k < 0 || k > n) throw new PerkException($"Wilson interval: need 0 <= k <= n, got k={k}, n={n}");
        if (n == 0) return (0, 1);
        double p = (double)k / n, z2 = z * z;
        double denom = 1 + z2 / n;
        double center = (p + z2 / (2.0 * n)) / denom;
        double half = z / denom * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        // Exact ends at k = 0 and k = n (floating point would leave ±1e-17 there).
        double lo = k == 0 ? 0 : Math.Max(0, center - half);
        double hi = k == n ? 1 : Math.Min(1, center + half);
        return (lo, hi);
    }

    /// <summary>The interval for a mean of n 0/1 scores (an EM): k is recovered as round(mean * n).</summary>
    public static (double Lo, double Hi) OfMean(double mean, int n, double z = Z95) =>
        Interval(Successes(mean, n), n, z);

    /// <summary>round(mean * n), clamped to [0, n].</summary>
    public static int Successes(double mean, int n) => Math.Clamp((int)Math.Round(mean * n), 0, Math.Max(n, 0));
}
