using System.Globalization;
using PerkSharp.Evaluation;
using PerkSharp.Tests.Cli;

namespace PerkSharp.Tests.Evaluation;

public class LearningCurveTests
{
    /// <summary>
    /// A run folder as MetaTrainer leaves it: train lines every 2 steps (step 8 skipped: outer_loss null), val checks
    /// at 5, 10, 15, 20 with val_em a multiple of 1/8, and config.yaml deciding n = min(val_em_examples, max_val_data) = 8.
    /// </summary>
    static string RunFolder(bool withConfig = true, string? extraVal = null)
    {
        string run = Path.Combine(Path.GetTempPath(), "perk-curve-" + Guid.NewGuid().ToString("N"), "perk");
        Directory.CreateDirectory(run);
        var lines = new List<(long Step, string Json)>();
        for (int s = 2; s <= 20; s += 2)
        {
            string loss = s == 8 ? "null" : (1.0 / s).ToString("R", CultureInfo.InvariantCulture);
            lines.Add((s, $"{{\"step\":{s},\"kind\":\"train\",\"outer_loss\":{loss},\"grad_norm\":1,\"lr\":0.001,\"skipped\":{(s == 8 ? 1 : 0)}}}"));
        }
        double[] ems = { 0.125, 0.25, 0.5, 0.875 };
        for (int i = 0; i < 4; i++)
            lines.Add((5 * (i + 1), $"{{\"step\":{5 * (i + 1)},\"kind\":\"val\",\"val_loss\":{(0.9 - 0.1 * i).ToString("R", CultureInfo.InvariantCulture)},\"val_em\":{ems[i].ToString("R", CultureInfo.InvariantCulture)}{extraVal}}}"));
        File.WriteAllLines(Path.Combine(run, "metrics.jsonl"), lines.OrderBy(l => l.Step).Select(l => l.Json));
        if (withConfig) File.WriteAllText(Path.Combine(run, "config.yaml"), "val_em_examples: 16\nmax_val_data: 8\n");
        return run;
    }

    static void Clean(string run) => Directory.Delete(Path.GetDirectoryName(run)!, true);

    [Fact]
    public void CurveHasOnePointPerLoggedStepAndWilsonIntervalsFromConfigN()
    {
        string run = RunFolder();
        try
        {
            var c = LearningCurve.Read(run);
            Assert.Equal(new long[] { 2, 4, 5, 6, 8, 10, 12, 14, 15, 16, 18, 20 }, c.Points.Select(p => p.Step));
            Assert.Equal("outer_loss", c.TrainKey);
            Assert.Equal(1, c.Window);                                          // round(10 / 10)
            Assert.Null(c.Points.Single(p => p.Step == 8).TrainLoss);           // the skipped step stays a gap
            var v = c.Points.Where(p => p.ValLoss != null).ToList();
            Assert.Equal(4, v.Count);
            Assert.All(v, p => Assert.Equal(8, p.ValEmN));
            var last = v[^1];
            Assert.Equal(Wilson.Interval(7, 8), (last.ValEmLo!.Value, last.ValEmHi!.Value));
            Assert.StartsWith("config.yaml", c.NSource);
        }
        finally { Clean(run); }
    }

    [Fact]
    public void LoggedNWinsAndAnEmThatIsNoMultipleOfOneOverNGetsNoInterval()
    {
        string run = RunFolder(extraVal: ",\"val_em_n\":8");
        string bad = RunFolder(withConfig: false);
        try
        {
            Assert.Equal("val_em_n in metrics.jsonl", LearningCurve.Read(run).NSource);
            File.WriteAllText(Path.Combine(bad, "config.yaml"), "val_em_examples: 3\nmax_val_data: 0\n");   // 0.125 * 3 is not whole
            var c = LearningCurve.Read(bad);
            Assert.All(c.Points.Where(p => p.ValEm != null), p => Assert.Null(p.ValEmLo));
        }
        finally { Clean(run); Clean(bad); }
    }

    [Fact]
    public void ATornLastLineIsLeftOutAndABadMiddleLineIsAOneLineError()
    {
        string run = RunFolder();
        try
        {
            string m = Path.Combine(run, "metrics.jsonl");
            File.AppendAllText(m, "{\"step\":22,\"kind\":\"tra");                 // killed mid-write
            Assert.Equal(12, LearningCurve.Read(run).Points.Count);
            File.AppendAllText(m, "\n{\"step\":24,\"kind\":\"train\",\"outer_loss\":0.1}\n");
            var e = Assert.Throws<PerkSharp.Runtime.PerkException>(() => LearningCurve.Read(run));
            Assert.Contains("line 15 is not a JSON object", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally { Clean(run); }
    }

    [Fact]
    public void ReportOnARunFolderWritesLearningCurvePngAndCsvThroughTheCli()
    {
        string run = RunFolder();
        try
        {
            var r = CliRunner.Run("report", run);
            Assert.True(r.ExitCode == 0, r.Stderr);
            var png = File.ReadAllBytes(Path.Combine(run, "learning_curve.png"));
            Assert.True(png.Length > 2000);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
            var csv = File.ReadAllLines(Path.Combine(run, "learning_curve.csv"));
            Assert.Equal("step,outer_loss,outer_loss_running_mean,val_loss,val_em,val_em_n,val_em_lo,val_em_hi", csv[0]);
            Assert.Equal(1 + 12, csv.Length);                                   // header + one row per distinct step
            Assert.Equal(4, csv.Skip(1).Count(l => l.Split(',')[3].Length > 0));
            Assert.Equal(9, csv.Skip(1).Count(l => l.Split(',')[1].Length > 0));   // 10 train lines, one skipped
            var row20 = csv.Single(l => l.StartsWith("20,")).Split(',');
            Assert.Equal("0.875", row20[4]);
            Assert.Equal(Wilson.Interval(7, 8).Lo, double.Parse(row20[6], CultureInfo.InvariantCulture), 12);
            string md = File.ReadAllText(Path.Combine(run, "report.md"));
            Assert.Contains("learning_curve.png", md);
            Assert.Contains("learning_curve.csv", md);
            Assert.Contains("| 20 | 0.6 | 87.5 [52.9, 97.8] | 8 |", md);
            Assert.False(File.Exists(Path.Combine(run, "accuracy_vs_length.png")));   // no evaluations, no eval plots
            Assert.Contains("learning_curve.png and learning_curve.csv", r.Stdout);

            var again = CliRunner.Run("report", run);                           // an existing report needs --force
            Assert.NotEqual(0, again.ExitCode);
            Assert.Single(again.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(0, CliRunner.Run("report", run, "--force").ExitCode);
        }
        finally { Clean(run); }
    }

    [Fact]
    public void WriteWithLearningCurveAddsTheCurveToAnEvaluationReport()
    {
        string run = RunFolder();
        string outDir = Path.Combine(Path.GetDirectoryName(run)!, "report");
        try
        {
            var recs = Enumerable.Range(0, 5).Select(i => new EvalRecord
            {
                Guid = $"g{i}", Method = "perk", Task = "qa1", Length = 512, Position = "q1", Prompt = "p", Answer = "a", Output = "o",
                Em = i < 3 ? 1 : 0, F1 = 0.5, EncodeMs = 1, AnswerMs = 1,
            }).ToList();
            string md = ReportWriter.WriteWithLearningCurve(recs, outDir, run);
            Assert.Contains("| perk | qa1 | 512 | 5 | 60.0 | [23.1, 88.2] |", md);
            Assert.Contains("## Learning curve", md);
            foreach (var f in ReportWriter.Files) Assert.True(File.Exists(Path.Combine(outDir, f)), f);
            Assert.Equal(md, File.ReadAllText(Path.Combine(outDir, "report.md")));
        }
        finally { Clean(run); }
    }

    [Fact]
    public void TwoRunFoldersAreAOneLineError()
    {
        string a = RunFolder(), b = RunFolder();
        try
        {
            var r = CliRunner.Run("report", a, b, "--out", Path.Combine(Path.GetDirectoryName(a)!, "rep"));
            Assert.NotEqual(0, r.ExitCode);
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("one training run folder", r.Stderr);
        }
        finally { Clean(a); Clean(b); }
    }
}
