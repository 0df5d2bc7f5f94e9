using System.Globalization;
using System.Text.Json.Nodes;
using CsvHelper;
using PerkSharp.Benchmarks;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Bench;

[Collection(SerialCollection.Name)]   // measures whole-process peak memory: parallel tests would add their own allocations
public class BenchPiecesTests
{
    public BenchPiecesTests() => Runtime.TorchRuntime.Initialize();

    [Fact]
    public void PhasePeakIsResetBetweenPhases()
    {
        if (!PeakMemory.Supported || !PeakMemory.CanResetPeak) return;   // Linux with a writable clear_refs only
        long base1 = PeakMemory.BeginPhase();
        using (var big = ones(64L << 20))                                 // 256 MB of float32, every page touched
            Assert.Equal(1.0f, big[-1].item<float>());
        long peak1 = PeakMemory.PhasePeak - base1;

        long base2 = PeakMemory.BeginPhase();
        using (var small = ones(16L << 20))                               // 64 MB
            Assert.Equal(1.0f, small[-1].item<float>());
        long peak2 = PeakMemory.PhasePeak - base2;

        Assert.InRange(peak1, 250L << 20, 400L << 20);
        // Without the reset the second phase would report the first one's 256 MB.
        Assert.InRange(peak2, 60L << 20, 160L << 20);
    }

    [Fact]
    public void GemmSampleReportsTwoNCubedFlopsPerSecond()
    {
        var s = GemmPeak.Measure(ScalarType.Float32, new[] { 64, 128 }, 0.05);
        Assert.Equal(new[] { 64, 128 }, s.Select(x => x.Size));
        foreach (var x in s)
        {
            Assert.True(x.Seconds > 0 && x.Repeats > 0);
            Assert.Equal(2.0 * x.Size * x.Size * x.Size / x.Seconds / 1e9, x.Gflops, 6);
        }
        Assert.Equal(s.Max(x => x.Gflops), GemmPeak.Best(s, "float32"));
        Assert.True(double.IsNaN(GemmPeak.Best(s, "bfloat16")));
    }

    [Fact]
    public void CsvRoundTripsThroughCsvHelperWithQuoting()
    {
        var t = new BenchTable("t", "name", "value", "missing");
        t.Add("a,b", 1.5, null);
        t.Add("plain", 2e9, double.NaN);
        string path = Path.Combine(Path.GetTempPath(), "perk-bench-" + Guid.NewGuid().ToString("N") + ".csv");
        try
        {
            t.WriteCsv(path);
            using var reader = new CsvReader(new StreamReader(path), CultureInfo.InvariantCulture);
            var rows = new List<string[]>();
            while (reader.Read()) rows.Add(Enumerable.Range(0, 3).Select(i => reader.GetField(i)!).ToArray());
            Assert.Equal(new[] { "name", "value", "missing" }, rows[0]);
            Assert.Equal(new[] { "a,b", "1.5", "" }, rows[1]);
            Assert.Equal(2e9, double.Parse(rows[2][1], CultureInfo.InvariantCulture));
            Assert.Equal("", rows[2][2]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SummaryJsonHasEveryKeyAndJudgesGoals()
    {
        var s = new BenchSummary();
        s["meta_step_mfu"] = 0.35;
        s["icr_prefill_mfu"] = 0.2;
        s["break_even_tokens"] = 30000;
        s["break_even_model_tokens"] = 15000;
        var o = JsonNode.Parse(s.ToJson())!.AsObject();
        foreach (var k in BenchSummary.Keys) Assert.True(o.ContainsKey(k), k);
        Assert.Null(o["gemm_gflops"]);
        Assert.Equal(0.35, o["meta_step_mfu"]!.GetValue<double>());
        Assert.True(o["goals_met"]!["meta_step_mfu"]!.GetValue<bool>());
        Assert.False(o["goals_met"]!["icr_prefill_mfu"]!.GetValue<bool>());
        Assert.Equal(2.0, o["break_even_ratio"]!.GetValue<double>());            // 30000 / 15000, outside 1.5x
        Assert.False(o["goals_met"]!["break_even_ratio"]!.GetValue<bool>());
        Assert.Null(o["goals_met"]!["rss_growth_50_500"]);                       // not measured is not "met"
        s["gemm_gflops"] = double.NaN;                                           // non-finite values become null
        Assert.Null(s["gemm_gflops"]);
    }

    [Fact]
    public void RssGrowthNeedsBothEndsOfItsWindow()
    {
        var rss = new Dictionary<int, double> { [50] = 200, [500] = 210, [750] = 250, [1500] = 245 };
        Assert.Equal(0.05, LeakBench.Growth(rss, 50, 500)!.Value, 12);
        Assert.Equal(-0.02, LeakBench.Growth(rss, 750, 1500)!.Value, 12);
        Assert.Null(LeakBench.Growth(rss, 50, 1000));
        Assert.Null(LeakBench.Growth(new Dictionary<int, double> { [500] = 210 }, 50, 500));
        // A full run is long enough for both windows; a quick one only for the warm-up window.
        Assert.Equal(1500, new BenchOptions().LeakSteps);
        Assert.Equal(500, new BenchOptions { Quick = true }.LeakSteps);
        Assert.Equal(1500, LeakBench.Windows.Max(w => w.To));
        Assert.Contains("rss_growth_750_1500", BenchSummary.Keys);
    }

    [Fact]
    public void ShortLeakRunLeavesBothWindowsUnmeasuredAndSaysSo()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perk-leak-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var s = new BenchSummary();
            var tables = new List<BenchTable>();
            new LeakBench(new BenchOptions { OutDir = dir, LeakStepsOverride = 60 }, TextWriter.Null).Run(s, tables.Add, (_, _) => { });
            Assert.Equal(new double[] { 1, 10, 20, 30, 40, 50, 60 }, tables.Single().Rows.Select(r => tables[0].Num(r, "step")));
            foreach (var (key, _, to) in LeakBench.Windows)
            {
                Assert.Null(s[key]);
                Assert.Contains(s.Notes, n => n.Contains(key) && n.Contains($"not {to}"));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void PrecisionKeysAreRatiosOfTheBf16MixedRowToTheFp32Row()
    {
        var t = new BenchTable("meta_step_precision", "precision", "seconds", "cpu_seconds", "peak_mb");
        t.Add("bf16_mixed", 30.0, 50.0, 1300.0);     // row order must not matter
        t.Add("fp32", 40.0, 80.0, 2000.0);
        var s = new BenchSummary();
        PrecisionBench.Summarize(t, s);
        Assert.Equal((40.0, 30.0), (s["meta_step_seconds_fp32"], s["meta_step_seconds_bf16_mixed"]));
        Assert.Equal((2000.0, 1300.0), (s["meta_step_peak_mb_fp32"], s["meta_step_peak_mb_bf16_mixed"]));
        Assert.Equal(0.75, s["bf16_mixed_time_ratio"]!.Value, 12);
        Assert.Equal(0.65, s["bf16_mixed_memory_ratio"]!.Value, 12);
        var o = JsonNode.Parse(s.ToJson())!;
        Assert.Equal(0.625, o["bf16_mixed_cpu_time_ratio"]!.GetValue<double>(), 12);
        Assert.True(o["goals_met"]!["bf16_mixed_memory_ratio"]!.GetValue<bool>());   // 0.65 <= 0.7
        Assert.Null(o["goals_met"]!["bf16_mixed_time_ratio"]);                      // GEMM peaks unknown: not judged

        var missing = new BenchSummary();
        PrecisionBench.Summarize(new BenchTable("p", "precision", "seconds", "cpu_seconds", "peak_mb"), missing);
        Assert.Null(missing["bf16_mixed_time_ratio"]);
    }

    [Theory]
    [InlineData(100.0, 150.0, null)]    // bf16 GEMM 1.5x fp32: the time goal is not set for this host
    [InlineData(100.0, 250.0, false)]   // 2.5x: judged, and 0.75 > 0.6 misses it
    public void Bf16TimeGoalIsJudgedOnlyWhereBf16GemmIsTwiceFp32(double fp32, double bf16, bool? met)
    {
        var s = new BenchSummary();
        s["gemm_gflops"] = fp32;
        s.Extra["gemm_gflops_bfloat16"] = bf16;
        s["bf16_mixed_time_ratio"] = 0.75;
        var goal = BenchSummary.Goals.Single(g => g.Key == "bf16_mixed_time_ratio");
        Assert.Equal(met, s.Met(goal));
        Assert.Contains(met is null ? "| n/a on this host |" : "| **no** |", s.GoalTable().Split('\n').Single(l => l.StartsWith("| bf16_mixed_time_ratio")));
        s["bf16_mixed_time_ratio"] = 0.5;
        Assert.Equal(met is null ? null : true, s.Met(goal));
    }
}
