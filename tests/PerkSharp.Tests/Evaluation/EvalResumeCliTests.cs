using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Reliability;

namespace PerkSharp.Tests.Evaluation;

/// <summary>
/// `perk eval --resume` through the real CLI: an eval killed with SIGKILL mid-run (and left with a torn last line)
/// continues where it stopped, refuses other settings in one line, and ends with the files and summary of an
/// uninterrupted run, byte for byte apart from the measured times.
/// </summary>
public class EvalResumeCliTests : IDisposable
{
    const int Rows = 60;
    readonly string _root = Path.Combine(Path.GetTempPath(), "perk-evalresume-" + Guid.NewGuid().ToString("N")[..8]);

    public EvalResumeCliTests() => TrainedRunFixture.CopyTo(_root);
    public void Dispose() { try { Directory.Delete(_root, true); } catch { } }

    string Data => Path.Combine(_root, "d");

    /// <summary>eval_batch_size 3: a kill can fall inside a batch, which resume must redo whole.</summary>
    string[] Args(string outDir, params string[] more) =>
        new[] { "eval", "--checkpoint", Path.Combine(_root, "run"), "--data", Data, "--out", Path.Combine(_root, outDir), "--threads", "1" }
            .Concat(more).Append("eval_batch_size=3").ToArray();

    CliRunner.Result Eval(string outDir, params string[] more) => CliRunner.RunIn(_root, TimeSpan.FromMinutes(5), Args(outDir, more));

    void WriteData()
    {
        string file = Path.Combine(Data, "babilong", "qa1_1k", "test.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        string[] who = { "Mary", "John", "Sandra", "Daniel" }, where = { "kitchen", "garden", "office", "hallway", "bedroom" };
        var lines = new List<string>();
        for (int i = 0; i < Rows; i++)
        {
            // Rows 4 and 47 ask a question longer than the model's 256 positions: they fail and are recorded.
            string q = i is 4 or 47 ? new string('q', 400) : $"Where is {who[i % 4]}?";
            var ctx = new JsonArray($"{who[i % 4]} went to the {where[i % 5]}.", $"{who[(i + 1) % 4]} moved to the {where[(i + 2) % 5]}.");
            lines.Add(new JsonObject { ["id"] = $"row-{i}", ["context"] = ctx, ["question"] = q, ["answer"] = where[i % 5] }.ToJsonString());
            if (i == 20) lines.Add("");                                              // file lines and rows differ from here on
        }
        File.WriteAllText(file, string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void AKilledEvalResumesToTheUninterruptedFilesAndRefusesOtherSettings()
    {
        WriteData();
        var a = Eval("a");
        Assert.True(a.ExitCode == 0, a.Stderr);

        string b = Path.Combine(_root, "b"), outputs = Path.Combine(b, "outputs.jsonl");
        KillAfterRows(outputs, 10);
        int before = File.ReadAllLines(outputs).Length;
        Assert.InRange(before, 10, Rows - 3);
        File.AppendAllText(outputs, "{\"guid\":\"row-99\",\"meth");                  // a torn last line, as a crash mid-write leaves
        var torn = File.ReadAllBytes(outputs);

        // Other settings, no --resume, or a budget the model alone exceeds: one line each, the folder as it was.
        foreach (var (more, says) in new[]
                 {
                     (new[] { "--resume", "inner_lr=0.5" }, "overrides"), (new[] { "--resume", "--method", "ttft" }, "method"),
                     (new[] { "--resume", "--max", "5" }, "max"), (Array.Empty<string>(), "unfinished evaluation (use --resume"),
                     (new[] { "--resume", "--force" }, "not both"), (new[] { "--resume", "--max-memory", "64M" }, "even one segment at a time"),
                 })
        {
            var r = Eval("b", more);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(says, Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
            Assert.Equal(torn, File.ReadAllBytes(outputs));
        }

        var resumed = Eval("b", "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"resuming after ", resumed.Stderr);
        Same(a.Stdout, resumed.Stdout, "summary");
        foreach (var f in new[] { "outputs.jsonl", "metrics.json", "failures.jsonl", "eval_settings.json" })
            Same(File.ReadAllText(Path.Combine(_root, "a", f)), File.ReadAllText(Path.Combine(b, f)), f);
        Assert.Equal(Rows - 2, File.ReadAllLines(outputs).Length);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(b, "failures.jsonl")).Length);

        // A finished evaluation resumes to itself: nothing is redone or rewritten.
        var stamp = File.GetLastWriteTimeUtc(outputs);
        var again = Eval("b", "--resume");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("finished earlier", again.Stderr);
        Same(a.Stdout, again.Stdout, "summary of a finished evaluation");
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(outputs));
    }

    /// <summary>Starts the eval into b and SIGKILLs it once outputs.jsonl holds at least <paramref name="rows"/> lines.</summary>
    void KillAfterRows(string outputs, int rows)
    {
        var stderr = new System.Text.StringBuilder();
        using var p = Reliability.KillResumeTests.Start(_root, stderr, Args("b"));
        var clock = Stopwatch.StartNew();
        while (!File.Exists(outputs) || File.ReadAllLines(outputs).Length < rows)
        {
            Assert.False(p.HasExited, "eval ended before it could be killed: " + stderr);
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "no outputs after 3 minutes");
            Thread.Sleep(2);
        }
        Assert.False(p.HasExited, "eval finished before it could be killed");
        p.Kill();                                                                     // SIGKILL on Linux
        p.WaitForExit();
    }

    /// <summary>Equal byte for byte once the measured times (encode_ms, answer_ms and the summary's ms columns) are blanked.</summary>
    static void Same(string expected, string actual, string what) => Assert.True(Blank(expected) == Blank(actual), $"{what} differs:\n{actual}");

    static string Blank(string s)
    {
        s = Regex.Replace(s, @"(""(encode|answer)_ms"":\s*)[-0-9.eE+]+", "${1}0");
        return Regex.Replace(s, @"\| [0-9]+ \| [0-9]+ \|(\r?)$", "| ms | ms |$1", RegexOptions.Multiline);
    }
}
