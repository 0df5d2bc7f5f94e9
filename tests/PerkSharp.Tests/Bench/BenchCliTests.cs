using System.Text.Json.Nodes;
using PerkSharp.Benchmarks;
using PerkSharp.Tests.Cli;

namespace PerkSharp.Tests.Bench;

public class BenchCliTests
{
    [Fact]
    public void GemmOnlyRunWritesEveryKeyCsvPlotAndMarkdown()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perk-bench-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var r = CliRunner.Run("bench", "--quick", "--only", "gemm", "--out", dir);
            Assert.True(r.ExitCode == 0, r.Stderr);
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
            foreach (var k in BenchSummary.Keys) Assert.True(summary.ContainsKey(k), k);
            Assert.True(summary["gemm_gflops"]!.GetValue<double>() > 0);
            Assert.True(File.Exists(Path.Combine(dir, "gemm.png")));
            var csv = File.ReadAllLines(Path.Combine(dir, "gemm.csv"));
            Assert.Equal("dtype,size,repeats,seconds_per_matmul,gflops,gflop_per_cpu_second", csv[0]);
            Assert.Contains(csv, l => l.StartsWith("bfloat16,", StringComparison.Ordinal));
            var md = File.ReadAllText(Path.Combine(dir, "summary.md"));
            Assert.Contains("| gemm_gflops |", md);
            Assert.Contains("Double backward", md);                 // the FLOP formulas are documented in the summary
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnknownPhaseIsAOneLineUserError()
    {
        var r = CliRunner.Run("bench", "--only", "warp-drive");
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("warp-drive", lines[0]);
    }
}
