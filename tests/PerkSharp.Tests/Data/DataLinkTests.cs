using PerkSharp.Data;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Reliability;

namespace PerkSharp.Tests.Data;

/// <summary>
/// Data discovery follows no symbolic link (real links on Linux): two loops back up the tree, a folder link out of the
/// root and a file link to a file already under it. `check data`, `data stats` and `eval` see the two real files once
/// each, and every command terminates (the child-process runner fails on a hang).
/// </summary>
public class DataLinkTests
{
    /// <summary>root/D: babilong/qa1_1k/{train,test}.jsonl (10 rows each) plus the links; root/O: data outside D.</summary>
    static string LinkedTree(string root)
    {
        string d = Path.Combine(root, "D"), qa = Path.Combine(d, "babilong", "qa1_1k");
        KillResumeTests.WriteData(Path.Combine(qa, "train.jsonl"));
        KillResumeTests.WriteData(Path.Combine(qa, "test.jsonl"));
        KillResumeTests.WriteData(Path.Combine(root, "O", "babilong", "qa1_1k", "test.jsonl"));
        Directory.CreateSymbolicLink(Path.Combine(qa, "up"), "..");                           // loop: qa1_1k/up/qa1_1k/up/...
        Directory.CreateSymbolicLink(Path.Combine(d, "babilong", "back"), "..");              // a second loop, to the root
        Directory.CreateSymbolicLink(Path.Combine(d, "outside"), Path.Combine(root, "O"));    // out of the root
        File.CreateSymbolicLink(Path.Combine(qa, "alias.jsonl"), "train.jsonl");             // a real file seen twice
        return d;
    }

    [Fact]
    public void DiscoveryVisitsEachRealFileOnceAndFollowsNoLink()
    {
        string root = DataPaths.TempDir();
        try { Discovery(root); } finally { Directory.Delete(root, true); }
    }

    static void Discovery(string root)
    {
        string d = LinkedTree(root);
        var files = DataFiles.Under(d, out int links);
        Assert.Equal(new[] { Path.Combine(d, "babilong", "qa1_1k", "test.jsonl"), Path.Combine(d, "babilong", "qa1_1k", "train.jsonl") }, files);
        Assert.Equal(4, links);
        Assert.Equal(new[] { "babilong/qa1_1k/test", "babilong/qa1_1k/train" },
            DatasetRegistry.Discover(d).Select(s => $"{s.Family.Name}/{s.Subset}/{s.Split}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CheckDataStatsAndEvalCountTheSameFilesThroughLinkLoops()
    {
        string root = DataPaths.TempDir();
        try { ThroughTheCli(root); } finally { Directory.Delete(root, true); }
    }

    static void ThroughTheCli(string root)
    {
        string d = LinkedTree(root);
        var check = CliRunner.RunIn(root, TimeSpan.FromMinutes(2), "check", "data", d);
        Assert.True(check.ExitCode == 0, check.Stderr);
        Assert.Contains("ok: 2 file set(s), 20 examples", check.Stdout);
        var stats = CliRunner.RunIn(root, TimeSpan.FromMinutes(2), "data", "stats", d);
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        Assert.Contains("2 file set(s), 20 examples", stats.Stdout);

        string run = TrainedRunFixture.CopyTo(Path.Combine(root, "t"));
        foreach (var split in new[] { "train", "test" })
        {
            var eval = CliRunner.RunIn(root, TimeSpan.FromMinutes(3), "eval", "--checkpoint", Path.Combine(run, "run"), "--data", d,
                "--split", split, "--max", "1", "--out", Path.Combine(root, "e-" + split), "--threads", "1");
            Assert.True(eval.ExitCode == 0, eval.Stderr);
            var lines = eval.Stderr.Split('\n').Where(l => l.StartsWith("eval: ", StringComparison.Ordinal) && l.Contains(" examples of ")).ToList();
            Assert.Equal(new[] { $"eval: 1 examples of {Path.Combine("babilong", "qa1_1k", split + ".jsonl")}" }, lines.Select(l => l[..l.IndexOf(" -> ", StringComparison.Ordinal)]));
        }
    }
}
