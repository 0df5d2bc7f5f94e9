namespace PerkSharp.Benchmarks;

/// <summary>
/// The measured break-even context. Each method's measured wall times are fitted (least squares, MathNet) as
/// t = overhead + FLOPs / rate against its own FLOP-model count, which gives each method its measured effective
/// throughput (PERK's GEMM-bound encoding and the in-context prefill's fused attention run at different rates).
/// The break-even is the first context (whole segments) where PERK's fitted time ≤ in-context reasoning's. A free
/// quadratic fit of the ICR times was tried first: at contexts far below the crossing the C² term drowns in noise
/// (it came out negative on the loaded machine), so the shape comes from the FLOP model and the rates from the clock.
/// When the crossing lies beyond the largest measured context it is an extrapolation, and the note says so.
/// </summary>
public static class BreakEven
{
    public sealed record Fit(double OverheadS, double SecondsPerGflop)
    {
        public double Seconds(double gflop) => OverheadS + SecondsPerGflop * gflop;
        public double Gflops => 1 / SecondsPerGflop;
    }

    /// <summary>t = a + b·GFLOP by least squares; with one point, a = 0.</summary>
    public static Fit FitRate(IReadOnlyList<(double Gflop, double Seconds)> pts)
    {
        if (pts.Count == 1) return new Fit(0, pts[0].Seconds / pts[0].Gflop);
        var (a, b) = MathNet.Numerics.Fit.Line(pts.Select(p => p.Gflop).ToArray(), pts.Select(p => p.Seconds).ToArray());
        if (b <= 0) return new Fit(0, pts.Sum(p => p.Seconds) / pts.Sum(p => p.Gflop));   // noise: plain average rate
        return new Fit(a, b);
    }

    /// <param name="perk">Measured PERK runs: (model GFLOP, seconds).</param>
    /// <param name="icr">Measured in-context runs: (model GFLOP, seconds).</param>
    /// <param name="perkGflop">FLOP model of PERK at a context length (GFLOP).</param>
    /// <param name="icrGflop">FLOP model of in-context reasoning at a context length (GFLOP).</param>
    public static long? Measured(IReadOnlyList<(double Gflop, double Seconds)> perk, IReadOnlyList<(double Gflop, double Seconds)> icr,
        Func<long, double> perkGflop, Func<long, double> icrGflop, long segmentLength, long maxMeasured, out string how,
        long maxTokens = 1L << 24)
    {
        if (perk.Count == 0 || icr.Count == 0) { how = "not measured"; return null; }
        var p = FitRate(perk);
        var q = FitRate(icr);
        bool PerkCheaper(long segs) => p.Seconds(perkGflop(segs * segmentLength)) <= q.Seconds(icrGflop(segs * segmentLength));
        string fits = $"PERK t ≈ {p.OverheadS:0.##} s + GFLOP / {p.Gflops:0.#} GFLOP/s; ICR t ≈ {q.OverheadS:0.##} s + GFLOP / {q.Gflops:0.#} GFLOP/s";
        long hi = 1, maxSegs = Math.Max(1, maxTokens / segmentLength);
        while (hi < maxSegs && !PerkCheaper(hi)) hi = Math.Min(maxSegs, hi * 2);
        if (!PerkCheaper(hi)) { how = fits + "; no crossing below " + maxTokens + " tokens"; return null; }
        long lo = hi / 2;
        while (hi - lo > 1)
        {
            long mid = (lo + hi) / 2;
            if (PerkCheaper(mid)) hi = mid; else lo = mid;
        }
        long c = hi * segmentLength;
        how = $"{fits}; crossing at {c} tokens{(c > maxMeasured ? $" (extrapolated beyond the largest measured context {maxMeasured})" : "")}";
        return c;
    }
}
