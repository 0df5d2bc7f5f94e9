namespace PerkSharp.Benchmarks;

/// <summary>
/// The measured break-even context: PERK's test time fitted as a + b·C (encoding is linear in the context) and
/// in-context reasoning's as c + d·C + e·C² (attention is quadratic), both by least squares over the measured
/// contexts; the crossing is the positive root of e·C² + (d − b)·C + (c − a) = 0 past which PERK is faster.
/// When the crossing lies beyond the largest measured context it is an extrapolation, and the note says so.
/// </summary>
public static class BreakEven
{
    public static double? Measured(IReadOnlyList<(double C, double Seconds)> perk, IReadOnlyList<(double C, double Seconds)> icr,
        out string how)
    {
        if (perk.Count < 2 || icr.Count < 3) { how = "not enough contexts measured to fit"; return null; }
        var p = Fit(perk, 1);
        var q = Fit(icr, 2);
        double a = q[2], b = q[1] - p[1], c = q[0] - p[0];   // icr − perk = a·C² + b·C + c; PERK cheaper where > 0
        double? root = null;
        if (a > 0)
        {
            double disc = b * b - 4 * a * c;
            if (disc >= 0)
            {
                double r = (-b + Math.Sqrt(disc)) / (2 * a);
                if (r > 0) root = r;
            }
        }
        else if (b > 0 && -c / b > 0) root = -c / b;
        double maxC = Math.Max(perk.Max(x => x.C), icr.Max(x => x.C));
        string fits = $"PERK ≈ {p[0]:0.###} + {p[1]:0.###e0}·C s, ICR ≈ {q[0]:0.###} + {q[1]:0.###e0}·C + {q[2]:0.###e0}·C² s";
        how = root is double x
            ? $"{fits}; crossing at {x:0} tokens{(x > maxC ? $" (extrapolated beyond the largest measured context {maxC:0})" : "")}"
            : $"{fits}; no crossing (PERK never cheaper under these fits)";
        return root;
    }

    /// <summary>Least-squares polynomial coefficients [c0, c1, ..., c_degree] (MathNet.Numerics, QR).</summary>
    public static double[] Fit(IReadOnlyList<(double X, double Y)> pts, int degree) =>
        MathNet.Numerics.Fit.Polynomial(pts.Select(p => p.X).ToArray(), pts.Select(p => p.Y).ToArray(), degree);
}
