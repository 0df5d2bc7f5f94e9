using PerkSharp.Tests.Cli;

namespace PerkSharp.Tests.Reliability;

/// <summary>
/// Every case of <see cref="BadInputCorpus"/> through the real CLI (child process): non-zero exit that is not a native
/// abort, exactly one stderr line "error: ..." with the expected fragment, no stack trace, no partial output, and no
/// temporary files left behind. The corpus is split by area into test classes so that xunit runs them in parallel.
/// </summary>
public static class BadInputCli
{
    static readonly object TableLock = new();

    /// <summary>Case-name prefixes of each test class; together they must cover the whole corpus.</summary>
    public static readonly Dictionary<string, string[]> Areas = new()
    {
        ["model"] = new[] { "st-", "cfg-", "ckpt-", "tok-", "model-" },
        ["runtime"] = new[] { "gen-", "opt-" },
        ["run"] = new[] { "run-" },
        ["config"] = new[] { "yaml-" },
        ["data"] = new[] { "data-", "generate-", "report-" },
    };

    public static IEnumerable<object[]> Names(string area) =>
        BadInputCorpus.All.Where(c => Areas[area].Any(c.Name.StartsWith)).Select(c => new object[] { c.Name });

    public static void Run(string name)
    {
        PerkSharp.Runtime.TorchRuntime.Initialize(1);        // fixtures write real checkpoints
        var c = BadInputCorpus.All.Single(x => x.Name == name);
        string dir = Path.Combine(Path.GetTempPath(), "perk-bad-" + name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        try
        {
            var r = CliRunner.RunIn(dir, TimeSpan.FromMinutes(2), c.Setup(dir));
            // PERK_CORPUS_TABLE=file collects "name | message" rows for the closing report's table.
            if (Environment.GetEnvironmentVariable("PERK_CORPUS_TABLE") is { Length: > 0 } table)
                lock (TableLock) File.AppendAllText(table, $"| {name} | {r.Stderr.Trim().Replace(dir, "DIR").Replace("|", "\\|")} |\n");
            AssertCleanError(r, c.Fragment, c.Relaxed);
            if (c.Output != null) Assert.False(Path.Exists(Path.Combine(dir, c.Output)), $"{c.Output} was left behind");
            var tmp = RealEntries(dir).Where(e => Path.GetFileName(e).Contains(".tmp", StringComparison.Ordinal)).ToArray();
            Assert.True(tmp.Length == 0, "temporary files left: " + string.Join(", ", tmp));
        }
        finally { try { Directory.Delete(dir, true); } catch { } }
    }

    /// <summary>Every entry under <paramref name="dir"/>, not descending into links (some cases hold link loops).</summary>
    static IEnumerable<string> RealEntries(string dir)
    {
        foreach (var e in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            yield return e.FullName;
            if (e is DirectoryInfo d && e.LinkTarget == null)
                foreach (var x in RealEntries(d.FullName)) yield return x;
        }
    }

    /// <summary>The uniform contract of a user error (shared by the other reliability tests).</summary>
    internal static void AssertCleanError(CliRunner.Result r, string fragment, bool relaxed = false)
    {
        Assert.True(r.ExitCode != 0, "exit code 0; stdout: " + r.Stdout);
        Assert.True(r.ExitCode is not (134 or 139), $"native abort (exit {r.ExitCode}): {r.Stderr}");
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode} (expected 2, a user error): {r.Stderr}");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (relaxed)
        {
            Assert.True(lines.Count(l => l.StartsWith("error:")) == 1, "expected one error line, got:\n" + r.Stderr);
            lines = new[] { lines[^1] };
        }
        Assert.True(lines.Length == 1, "expected one stderr line, got:\n" + r.Stderr);
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("terminate called", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("internal failure", r.Stderr);
        Assert.Contains(fragment, lines[0]);
    }
}

public class BadInputCorpusTests
{
    [Fact]
    public void CorpusHasAtLeastFortyDistinctCasesEachInOneArea()
    {
        Assert.True(BadInputCorpus.All.Count >= 40, $"only {BadInputCorpus.All.Count} cases");
        Assert.Equal(BadInputCorpus.All.Count, BadInputCorpus.All.Select(c => c.Name).Distinct().Count());
        foreach (var c in BadInputCorpus.All)
            Assert.True(BadInputCli.Areas.Values.Count(p => p.Any(c.Name.StartsWith)) == 1, c.Name + " is in no test class (or in two)");
    }
}

public class BadModelFolderCliTests
{
    public static IEnumerable<object[]> Cases => BadInputCli.Names("model");
    [Theory, MemberData(nameof(Cases))] public void BadInputGivesOneCleanErrorLine(string name) => BadInputCli.Run(name);
}

public class BadRuntimeInputCliTests
{
    public static IEnumerable<object[]> Cases => BadInputCli.Names("runtime");
    [Theory, MemberData(nameof(Cases))] public void BadInputGivesOneCleanErrorLine(string name) => BadInputCli.Run(name);
}

public class BadRunCliTests
{
    public static IEnumerable<object[]> Cases => BadInputCli.Names("run");
    [Theory, MemberData(nameof(Cases))] public void BadInputGivesOneCleanErrorLine(string name) => BadInputCli.Run(name);
}

public class BadConfigCliTests
{
    public static IEnumerable<object[]> Cases => BadInputCli.Names("config");
    [Theory, MemberData(nameof(Cases))] public void BadInputGivesOneCleanErrorLine(string name) => BadInputCli.Run(name);
}

public class BadDataCliTests
{
    public static IEnumerable<object[]> Cases => BadInputCli.Names("data");
    [Theory, MemberData(nameof(Cases))] public void BadInputGivesOneCleanErrorLine(string name) => BadInputCli.Run(name);
}
