using System.Security.Cryptography;
using PerkSharp.Tests.Cli;

namespace PerkSharp.Tests.Reliability;

/// <summary>
/// "Nothing a user has is ever lost", through the real CLI: an --out that is a file, a folder holding other
/// things, or an artefact of the same kind without --force is refused in one line before any work, and every file
/// stays byte for byte what it was. A long legal folder name still works (the temp sibling's name is shortened).
/// </summary>
public class OutputGuardCliTests
{
    static string Fresh(string tag) => TrainedRunFixture.CopyTo(Path.Combine(Path.GetTempPath(), $"perk-guard-{tag}-{Guid.NewGuid():N}"[..40]));

    /// <summary>Every file under <paramref name="dir"/> (relative path → SHA-256), to prove nothing changed.</summary>
    static Dictionary<string, string> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    static CliRunner.Result Encode(string d, string doc, string outDir, params string[] rest) =>
        CliRunner.Run(new[] { "encode", "--checkpoint", Path.Combine(d, "run"), "--document", doc, "--out", outDir, "--threads", "1" }.Concat(rest).ToArray());

    static void Refused(CliRunner.Result r, string fragment) => BadInputCli.AssertCleanError(r, fragment);   // one line: nothing ran before it

    static void NoTempSiblings(string dir) =>
        Assert.Empty(Directory.GetFileSystemEntries(dir, ".*").Where(e => PerkSharp.IO.AtomicFile.IsTempName(Path.GetFileName(e))));

    [Fact]
    public void EncodeOntoAFolderWithTheDocumentOrOntoARunIsRefusedEvenWithForceAndTouchesNothing()
    {
        string d = Fresh("foreign");
        try
        {
            string docs = Path.Combine(d, "docs");
            Directory.CreateDirectory(docs);
            File.Copy(Path.Combine(d, "doc.txt"), Path.Combine(docs, "doc.txt"));
            var before = Snapshot(d);
            foreach (var force in new[] { Array.Empty<string>(), new[] { "--force" } })
            {
                Refused(Encode(d, Path.Combine(docs, "doc.txt"), docs, force), "not empty and not a memory (it holds \"doc.txt\")");
                Refused(Encode(d, Path.Combine(d, "doc.txt"), Path.Combine(d, "run"), force), "not empty and not a memory (it holds \"checkpoints/\")");
            }
            Assert.Equal(before, Snapshot(d));
            NoTempSiblings(d);
        }
        finally { Directory.Delete(d, true); }
    }

    [Fact]
    public void EncodeOntoAnExistingMemoryNeedsForceAndThenReplacesIt()
    {
        string d = Fresh("memory");
        try
        {
            string mem = Path.Combine(d, "mem"), other = Path.Combine(d, "other.txt");
            File.WriteAllText(other, "Sandra journeyed to the hallway. Daniel went back to the bedroom.\n");
            var before = Snapshot(mem);
            Refused(Encode(d, other, mem), "already holds a memory (use --force to replace it)");
            Assert.Equal(before, Snapshot(mem));

            var r = Encode(d, other, mem, "--force");
            Assert.True(r.ExitCode == 0, r.Stderr);
            var after = Snapshot(mem);
            Assert.Equal(before.Keys.Order(), after.Keys.Order());                    // still exactly the two files
            Assert.NotEqual(before["adapter_model.safetensors"], after["adapter_model.safetensors"]);
            NoTempSiblings(d);
        }
        finally { Directory.Delete(d, true); }
    }

    [Fact]
    public void OutThatIsARegularFileIsRefusedBeforeEncodingOrEvaluatingAnyRow()
    {
        string d = Fresh("file");
        try
        {
            string doc = Path.Combine(d, "doc.txt");
            var before = Snapshot(d);
            Refused(Encode(d, doc, doc), "is a file, not a folder");
            var r = CliRunner.Run("eval", "--checkpoint", Path.Combine(d, "run"), "--data", Path.Combine(d, "data"), "--split", "train",
                "--out", doc, "--threads", "1");
            Refused(r, "is a file, not a folder");                                     // no progress line: no row was evaluated
            Assert.DoesNotContain("eval:", r.Stderr);
            Assert.Equal(before, Snapshot(d));
        }
        finally { Directory.Delete(d, true); }
    }

    [Fact]
    public void EvalReplacesAnEarlierEvaluationOnlyWithForce()
    {
        string d = Fresh("eval");
        try
        {
            string ev = Path.Combine(d, "ev");
            string[] args = { "eval", "--checkpoint", Path.Combine(d, "run"), "--data", Path.Combine(d, "data"), "--split", "train", "--max", "1", "--out", ev, "--threads", "1" };
            var r = CliRunner.Run(args);
            Assert.True(r.ExitCode == 0, r.Stderr);
            File.WriteAllText(Path.Combine(ev, "report.md"), "an earlier report");      // what `perk report EV` adds is still an evaluation
            var before = Snapshot(ev);
            Refused(CliRunner.Run(args), "already holds an evaluation (use --force to replace it)");
            Assert.Equal(before, Snapshot(ev));
            r = CliRunner.Run(args.Append("--force").ToArray());
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(new[] { "eval_settings.json", "metrics.json", "outputs.jsonl" }, Snapshot(ev).Keys.Order(StringComparer.Ordinal));
            NoTempSiblings(d);
        }
        finally { Directory.Delete(d, true); }
    }

    [Fact]
    public void A250CharacterFolderNameWorksAndA256ByteOneIsRefusedUpFront()
    {
        string d = Fresh("long");
        try
        {
            string doc = Path.Combine(d, "doc.txt"), mem = Path.Combine(d, new string('m', 250));
            var r = Encode(d, doc, mem);
            Assert.True(r.ExitCode == 0, r.Stderr);
            r = Encode(d, doc, mem, "--force");                                        // the replace path (".old-" sibling) too
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(new[] { "adapter_config.json", "adapter_model.safetensors" }, Directory.GetFiles(mem).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            NoTempSiblings(d);
            Refused(Encode(d, doc, Path.Combine(d, new string('é', 128))), "is 256 bytes long; names are limited to 255 bytes");
        }
        finally { Directory.Delete(d, true); }
    }

    [Fact]
    public void PretrainReusesTheSameRecipeAndReplacesAnotherOnlyWithForce()
    {
        string d = Path.Combine(Path.GetTempPath(), $"perk-guard-pretrain-{Guid.NewGuid():N}"), m = Path.Combine(d, "m");
        CliRunner.Result Pretrain(string steps, params string[] rest) => CliRunner.Run(new[] { "pretrain", "--out", m, "--steps", steps, "--prose", "20",
            "--drills", "0", "--vocab", "300", "--layers", "1", "--hidden", "16", "--heads", "2", "--positions", "64", "--window", "32", "--batch", "1", "--threads", "1" }
            .Concat(rest).ToArray());
        try
        {
            var r = Pretrain("1");
            Assert.True(r.ExitCode == 0, r.Stderr);
            var before = Snapshot(m);
            r = Pretrain("1");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("(reused)", r.Stdout);
            Refused(Pretrain("2"), "already holds a model (use --force to replace it)");
            Assert.Equal(before, Snapshot(m));
            r = Pretrain("2", "--force");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("(pretrained now)", r.Stdout);
            Assert.NotEqual(before[PerkSharp.Training.BaseModel.RecipeFile], Snapshot(m)[PerkSharp.Training.BaseModel.RecipeFile]);
            NoTempSiblings(d);
        }
        finally { if (Directory.Exists(d)) Directory.Delete(d, true); }
    }
}
