using System.Diagnostics;
using static TorchSharp.torch;

namespace PerkSharp.Benchmarks;

/// <summary>The denominators of the efficiency figures: float32 GEMM GFLOP/s (wall) and GFLOP per CPU-second.</summary>
public sealed record MachinePeak(double Gflops, double GflopsPerCpuSecond);

/// <summary>One GEMM measurement: C = A·B with A, B square [n, n] (2·n³ FLOPs).</summary>
/// <param name="CpuSeconds">Process CPU time per matmul in the best burst (all threads): the load-robust denominator.</param>
public sealed record GemmSample(string Dtype, int Size, int Repeats, double Seconds, double Gflops, double CpuSeconds)
{
    /// <summary>GFLOP per CPU-second consumed: unaffected by time slices lost to other processes.</summary>
    public double GflopsPerCpuSecond => 2.0 * Size * Size * Size / CpuSeconds / 1e9;
}

/// <summary>
/// The machine's sustained matmul throughput through TorchSharp: the denominator of every efficiency (MFU) figure.
/// For each size the matmul is repeated for about <c>secondsPerSize</c> after a warm-up, in short bursts; the best
/// burst counts (on a shared machine the best burst is the one least disturbed by other processes).
/// </summary>
public static class GemmPeak
{

    public static IReadOnlyList<GemmSample> Measure(ScalarType dtype, IReadOnlyList<int> sizes, double secondsPerSize,
        Action<string>? status = null)
    {
        var result = new List<GemmSample>();
        foreach (int n in sizes)
        {
            using var scope = NewDisposeScope();
            var a = randn(n, n, dtype: dtype);
            var b = randn(n, n, dtype: dtype);
            double flops = 2.0 * n * n * n;
            using (no_grad())
            {
                // Warm-up: first calls pick kernels and fault in pages.
                var warm = Stopwatch.StartNew();
                do mm(a, b).Dispose(); while (warm.Elapsed.TotalSeconds < Math.Min(0.2, secondsPerSize / 4));

                // Bursts of at least ~50 ms; keep the best.
                int perBurst = Math.Max(1, (int)(0.05 / Math.Max(1e-6, warm.Elapsed.TotalSeconds / 2)));
                double best = double.MaxValue, bestCpu = double.NaN; int reps = 0;
                var total = Stopwatch.StartNew();
                while (total.Elapsed.TotalSeconds < secondsPerSize || reps == 0)
                {
                    var cpu0 = CpuTime.Now;
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < perBurst; i++) a.matmul(b).Dispose();
                    double per = sw.Elapsed.TotalSeconds / perBurst;
                    if (per < best) { best = per; bestCpu = (CpuTime.Now - cpu0) / perBurst; }
                    reps += perBurst;
                    if (per * perBurst < 0.02) perBurst *= 2;      // bursts too short to time reliably
                }
                var sample = new GemmSample(DtypeName(dtype), n, reps, best, flops / best / 1e9, bestCpu);
                result.Add(sample);
                status?.Invoke($"GEMM {sample.Dtype} {n}: {sample.Gflops:0.0} GFLOP/s");
            }
        }
        return result;
    }

    /// <summary>Best GFLOP per CPU-second over the samples of one dtype.</summary>
    public static double BestPerCpuSecond(IEnumerable<GemmSample> samples, string dtype) =>
        samples.Where(s => s.Dtype == dtype).Select(s => s.GflopsPerCpuSecond).DefaultIfEmpty(double.NaN).Max();

    /// <summary>Best sustained GFLOP/s over the samples of one dtype.</summary>
    public static double Best(IEnumerable<GemmSample> samples, string dtype) =>
        samples.Where(s => s.Dtype == dtype).Select(s => s.Gflops).DefaultIfEmpty(double.NaN).Max();

    public static string DtypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float64 => "float64",
        ScalarType.Float16 => "float16",
        _ => t.ToString().ToLowerInvariant(),
    };
}

/// <summary>CPU time of this process (all threads), in seconds.</summary>
public static class CpuTime
{
    public static double Now => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
}
