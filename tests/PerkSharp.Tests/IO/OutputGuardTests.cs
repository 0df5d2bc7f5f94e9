using System.Text;
using PerkSharp.Evaluation;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Tests.IO;

/// <summary>The output guard and the atomic writer's temp names, in process (the CLI cases are in OutputGuardCliTests).</summary>
public class OutputGuardTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-guard-" + Guid.NewGuid().ToString("N")[..8]);

    public OutputGuardTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Theory]
    [InlineData("m", 250)]
    [InlineData("é", 127)]          // 254 bytes: must be cut between characters, never inside one
    [InlineData("a", 10)]
    public void TempNamesStayWithinTheNameLimitAndAreRecognised(string unit, int count)
    {
        string name = string.Concat(Enumerable.Repeat(unit, count));
        foreach (var suffix in new[] { ".tmp-0123abcd", ".old-0123abcd", ".4242.0123abcd.tmp" })
        {
            string t = AtomicFile.TempName(name, suffix);
            Assert.True(Encoding.UTF8.GetByteCount(t) <= OutputGuard.MaxNameBytes, t.Length.ToString());
            Assert.StartsWith("." + name[..Math.Min(name.Length, 8)], t);
            Assert.EndsWith(suffix, t);
            Assert.True(name.StartsWith(t[1..^suffix.Length], StringComparison.Ordinal));
            Assert.True(AtomicFile.IsTempName(t));
        }
        Assert.False(AtomicFile.IsTempName(name));
    }

    [Fact]
    public void ALongNameWritesAtomicallyAndLeavesNoTemp()
    {
        string file = Path.Combine(_dir, new string('f', 250)), dir = Path.Combine(_dir, new string('d', 250));
        AtomicFile.WriteAllText(file, "a");
        AtomicFile.WriteAllText(file, "b");
        AtomicFile.WriteDirectory(dir, t => File.WriteAllText(Path.Combine(t, "x"), "1"));
        AtomicFile.WriteDirectory(dir, t => File.WriteAllText(Path.Combine(t, "x"), "2"));
        Assert.Equal("b", File.ReadAllText(file));
        Assert.Equal("2", File.ReadAllText(Path.Combine(dir, "x")));
        Assert.Equal(2, Directory.GetFileSystemEntries(_dir).Length);
    }

    [Fact]
    public void ASetOfEvaluationsIsRecognisedDownToItsSubfoldersAndAnythingElseIsNamed()
    {
        string root = Path.Combine(_dir, "eval"), sub = Path.Combine(root, "perk_qa1");
        Directory.CreateDirectory(sub);
        File.WriteAllText(Path.Combine(sub, EvalFolder.Outputs), "");
        File.WriteAllText(Path.Combine(root, "report.md"), "");
        OutputGuard.Into(root, EvalFolder.SetKind);
        OutputGuard.Folder(sub, EvalFolder.Kind, force: true);
        Assert.Contains("use --force", Assert.Throws<PerkException>(() => OutputGuard.Folder(sub, EvalFolder.Kind, force: false)).Message);

        File.WriteAllText(Path.Combine(sub, "notes.txt"), "mine");
        Assert.Contains("holds \"perk_qa1/\"", Assert.Throws<PerkException>(() => OutputGuard.Into(root, EvalFolder.SetKind)).Message);
        Assert.Contains("holds \"notes.txt\"", Assert.Throws<PerkException>(() => OutputGuard.Folder(sub, EvalFolder.Kind, force: true)).Message);
    }

    [Fact]
    public void AFileOnTheWayIsRefusedAndFilesNeedForce()
    {
        string file = Path.Combine(_dir, "f.txt");
        File.WriteAllText(file, "mine");
        var e = Assert.Throws<PerkException>(() => OutputGuard.Folder(Path.Combine(file, "mem"), PerkSharp.MetaLearning.PerkMemory.Kind, force: true));
        Assert.Contains("f.txt is a file, not a folder", e.Message);
        Assert.Contains("already exists", Assert.Throws<PerkException>(() => OutputGuard.Files(new[] { file }, force: false)).Message);
        OutputGuard.Files(new[] { file, Path.Combine(_dir, "new.txt") }, force: true);
        Assert.Contains("is a folder", Assert.Throws<PerkException>(() => OutputGuard.Files(new[] { _dir }, force: true)).Message);
        Assert.Equal("mine", File.ReadAllText(file));
    }
}
