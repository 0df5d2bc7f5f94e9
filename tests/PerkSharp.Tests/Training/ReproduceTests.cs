using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PerkSharp.Evaluation;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <summary>
/// `perk reproduce babilong` at tiny sizes (qa1, two lengths, a few examples, a base pretrained for a few steps): the
/// whole pipeline runs, its report and summary agree with the outputs.jsonl files, and a rerun after a simulated kill
/// (a phase's marker or an eval cell deleted) redoes only that phase.
/// </summary>
[Collection(SerialCollection.Name)]
public class ReproduceTests
{
    static ReproduceOptions Tiny(string root) => new()
    {
        Root = root, Tasks = new[] { 1 }, Lengths = new[] { "1k", "2k" }, TestCount = 3, Progress = TextWriter.Null,
        Recipe = new QuickstartOptions
        {
            TrainCount = 3, ValCount = 2, WarmupCount = 4, ProseSentences = 16, MaxVocab = 400, TtftRates = new[] { 1e-3, 1e-2 }, EvalBatchSize = 2,
            Pretrain = new PretrainOptions { Layers = 1, Hidden = 16, Heads = 2, Positions = 256, Window = 32, BatchSize = 2, Steps = 3, Drills = 8 },
            PerkOverrides = new[] { "lora_rank=2", "lora_alpha=2", "n_inner_iter=2", "unroll_start=1", "max_new_tokens=4", "val_em_examples=2", "max_val_data=2" },
            WarmupOverrides = new[] { "train_batch_size=2", "eval_batch_size=2" },
            FtIcrOverrides = new[] { "lora_rank=2", "lora_alpha=2", "max_new_tokens=4" },
        },
    };

    static readonly string[] AllPhases =
    {
        "data", "base", "qa1 PERK stage 1 (0k, facts only)", "qa1 PERK meta-training (1k)", "qa1 FT-ICR fine-tuning", "qa1 TTFT",
        "eval perk qa1 1k", "eval ft_icr qa1 1k", "eval ttft qa1 1k", "eval bm25_top1 qa1 1k",
        "eval perk qa1 2k", "eval ft_icr qa1 2k", "eval ttft qa1 2k", "eval bm25_top1 qa1 2k",
    };

    static Phases Run(ReproduceOptions o)
    {
        var phases = new Phases(TextWriter.Null, resumable: true);
        BabilongReproduction.Run(o, phases);
        return phases;
    }

    /// <summary>SHA-256 of every file the phases wrote (summary and report are rewritten by every run, so left out).</summary>
    static Dictionary<string, string> Snapshot(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => f != "summary.json" && f != "report.md" && !f.StartsWith(ExtrapolationReport.Folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToDictionary(f => f, f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(root, f)))));

    static void AssertUnchangedExcept(Dictionary<string, string> before, Dictionary<string, string> after, string redoneFolder)
    {
        string prefix = redoneFolder + Path.DirectorySeparatorChar;
        var kept = before.Keys.Where(k => !k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(kept);
        foreach (var k in kept) Assert.True(after.TryGetValue(k, out var h) && h == before[k], $"{k} changed or vanished");
        Assert.Contains(after.Keys, k => k.StartsWith(prefix, StringComparison.Ordinal) && k.EndsWith(Phases.MarkerFile, StringComparison.Ordinal));
    }

    [Fact]
    public void Runs_end_to_end_and_a_rerun_redoes_only_the_phases_that_did_not_finish()
    {
        TorchRuntime.Initialize();
        string root = TinyRun.TempDir("reproduce"), other = TinyRun.TempDir("reproduce-model");
        try
        {
            var o = Tiny(root);
            var first = Run(o);
            Assert.Equal(AllPhases, first.Ran);
            Assert.Empty(first.Reused);
            CheckOutputs(root);

            // Nothing changed: every phase is reused and no file it wrote is touched.
            var before = Snapshot(root);
            var again = Run(o);
            Assert.Empty(again.Ran);
            Assert.Equal(AllPhases, again.Reused);
            Assert.Equal(before, Snapshot(root));

            // A kill during one evaluation cell (its folder incomplete): only that cell runs again.
            string cell = Path.Combine("eval", "ttft_qa1_2k");
            File.Delete(Path.Combine(root, cell, EvalFolder.Metrics));
            var resumed = Run(o);
            Assert.Equal(new[] { "eval ttft qa1 2k" }, resumed.Ran);
            AssertUnchangedExcept(before, Snapshot(root), cell);

            // A kill after TTFT's rate choice but before its marker: TTFT reruns, picks the same rate, so the cells stay.
            string ttft = Path.Combine("train", "qa1", "ttft");
            File.Delete(Path.Combine(root, ttft, Phases.MarkerFile));
            before = Snapshot(root);
            resumed = Run(o);
            Assert.Equal(new[] { "qa1 TTFT" }, resumed.Ran);
            AssertUnchangedExcept(before, Snapshot(root), ttft);
            CheckOutputs(root);

            // More test examples: the data and every cell are redone, the trained models are reused.
            var more = Run(o with { TestCount = 4 });
            Assert.Equal(new[] { "data" }.Concat(AllPhases.Where(p => p.StartsWith("eval ", StringComparison.Ordinal))), more.Ran);
            Assert.All(EvalRecordsByCell(root), kv => Assert.Equal(4, kv.Value.Count));

            // Fewer lengths: the data is regenerated (cheap), every model and 1k cell reused, and the 2k cells of the
            // earlier run leave the folder, so summary and report cover this run only.
            var fewer = Run(o with { TestCount = 4, Lengths = new[] { "1k" } });
            Assert.Equal(new[] { "data" }, fewer.Ran);
            Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(root, "eval")), d => d.EndsWith("_2k", StringComparison.Ordinal));
            var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "summary.json")))!["rows"]!.AsArray();
            Assert.All(rows, r => Assert.Equal(1024, (int)r!["length"]!));

            // --model: a given base folder is used as it is (no base phase, nothing pretrained into the new run).
            var given = Run(Tiny(other) with { ModelDir = Path.Combine(root, "base"), Lengths = new[] { "1k" } });
            Assert.Equal(AllPhases.Where(p => p != "base" && !p.EndsWith(" 2k", StringComparison.Ordinal)), given.Ran);
            Assert.False(Directory.Exists(Path.Combine(other, "base")));
            Assert.Equal(Path.GetFullPath(Path.Combine(root, "base")),
                PerkCheckpoint.BaseModel(CheckpointManager.Resolve(Path.Combine(other, "train", "qa1", "perk_1k"))));
        }
        finally
        {
            foreach (var d in new[] { root, other }) try { Directory.Delete(d, true); } catch (IOException) { }
        }
    }

    static Dictionary<string, List<EvalRecord>> EvalRecordsByCell(string root) =>
        Directory.GetDirectories(Path.Combine(root, "eval")).ToDictionary(d => Path.GetFileName(d),
            d => EvalRecord.ReadAll(Path.Combine(d, EvalFolder.Outputs)));

    /// <summary>summary.json equals its recomputation from the outputs.jsonl files; report.md shows every cell with its interval, and chance.</summary>
    static void CheckOutputs(string root)
    {
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "summary.json")))!.AsObject();
        var recomputed = Quickstart.Summarize(Path.Combine(root, "eval"), 0);
        Assert.Equal(recomputed["rows"]!.ToJsonString(), summary["rows"]!.ToJsonString());

        // Independently of Summarize: each row is the mean of its cell's lines, with the Wilson interval of that count.
        var cells = EvalRecordsByCell(root);
        var rows = summary["rows"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(8, rows.Count);
        string md = File.ReadAllText(Path.Combine(root, "report.md"));
        foreach (var r in rows)
        {
            var lines = cells[$"{(string)r["method"]!}_{(string)r["task"]!}_{((int)r["length"]! / 1024)}k"];
            Assert.Equal(lines.Count, (int)r["n"]!);
            Assert.Equal(lines.Average(x => x.Em), (double)r["em"]!, 12);
            var (lo, hi) = Wilson.Interval((int)lines.Sum(x => x.Em), lines.Count);
            Assert.Equal(lo, (double)r["em_lo"]!, 12);
            Assert.Equal(hi, (double)r["em_hi"]!, 12);
            Assert.Contains($"{ResultTable.Pct((double)r["em"]!)} [{ResultTable.Pct(lo)}, {ResultTable.Pct(hi)}]", md);
        }
        Assert.Contains("| **chance** (qa1) | – | – | 16.7 | 16.7 | 16.7 | 16.7 |", md);
        PerkSharp.Tests.Evaluation.MetricTrio.AssertEverywhere(root);
        PerkSharp.Tests.Evaluation.MetricTrio.AssertTable(md);
        PerkSharp.Tests.Evaluation.MetricTrio.AssertTable(Quickstart.Table(summary));
        Assert.Contains("| qa1 | 1024 | 3 |", md);
        Assert.Contains("](report/em_vs_length_qa1.png)", md);
        Assert.True(new FileInfo(Path.Combine(root, "report", "em_vs_length_qa1.png")).Length > 1000);
        foreach (var run in new[] { "qa1_perk_0k", "qa1_perk_1k" })
        {
            Assert.Contains($"](report/{run}/learning_curve.png)", md);
            Assert.True(new FileInfo(Path.Combine(root, "report", run, "learning_curve.png")).Length > 1000);
        }
        Assert.Contains("perk", File.ReadAllText(Path.Combine(root, "report", "qa1_perk_1k", "report.md")));
    }

    [Fact]
    public void Two_tasks_in_two_lanes_give_the_outputs_of_one_lane()
    {
        TorchRuntime.Initialize(1);                 // one libtorch thread either way, so only the lanes differ
        string one = TinyRun.TempDir("reproduce-l1"), two = TinyRun.TempDir("reproduce-l2");
        try
        {
            Run(Tiny(one) with { Tasks = new[] { 1, 2 }, Lanes = 1 });
            var phases = Run(Tiny(two) with { Tasks = new[] { 1, 2 }, Lanes = 2 });
            Assert.Contains("qa2 PERK meta-training (1k)", phases.Ran);
            var cells = Directory.GetDirectories(Path.Combine(one, "eval")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(16, cells.Count);
            foreach (var cell in cells)
                Assert.Equal(EvalRecord.ReadAll(Path.Combine(one, "eval", cell!, "outputs.jsonl")).Select(r => (r.Guid, r.Output, r.Em)),
                             EvalRecord.ReadAll(Path.Combine(two, "eval", cell!, "outputs.jsonl")).Select(r => (r.Guid, r.Output, r.Em)));
        }
        finally
        {
            TorchRuntime.Initialize();
            foreach (var d in new[] { one, two }) try { Directory.Delete(d, true); } catch (IOException) { }
        }
    }
}

/// <summary>`perk reproduce babilong` through the real CLI: help, and one-line errors before any work.</summary>
public class ReproduceCliTests
{
    [Fact]
    public void Help_lists_the_options()
    {
        var r = Cli.CliRunner.Run("reproduce", "babilong", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var opt in new[] { "--tasks", "--lengths", "--test-count", "--train-count", "--out", "--model", "--threads", "runs/reproduce/babilong" })
            Assert.Contains(opt, r.Stdout);
    }

    [Fact]
    public void A_bad_option_is_a_one_line_error_and_writes_nothing()
    {
        string root = TinyRun.TempDir("reproduce-cli");
        try
        {
            string output = Path.Combine(root, "run");
            var r = Cli.CliRunner.Run("reproduce", "babilong", "--out", output, "--tasks", "qa1,qa9", "--threads", "1");
            Assert.Equal(2, r.ExitCode);
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.Equal("error: --tasks: qa9 is not a BabiLong task this generator has (qa1 to qa5)", lines[0]);
            Assert.False(Directory.Exists(output));
        }
        finally { Directory.Delete(root, true); }
    }

    [Theory]
    [InlineData("qa1,qa1", "1k", 1, null, "--tasks: a task is listed twice")]
    [InlineData("qa1", "1k,3k", 1, null, "--lengths: '3k' is not one of")]
    [InlineData("qa1", "1k,1k", 1, null, "--lengths: a length is listed twice")]
    [InlineData("qa1", "1k", 0, null, "--test-count: need at least 1")]
    [InlineData("qa1", "1k", 1, "/nonexistent/model", "not a Hugging Face model folder (no config.json)")]
    [InlineData("first", "1k", 1, null, "--tasks: 'first' is not a task like qa1")]
    public void Options_no_run_could_use_are_refused(string tasks, string lengths, int testCount, string? model, string expected)
    {
        var e = Assert.Throws<PerkException>(() => BabilongReproduction.Validate(new ReproduceOptions
        {
            Tasks = BabilongReproduction.ParseTasks(tasks), Lengths = BabilongReproduction.ParseLengths(lengths), TestCount = testCount, ModelDir = model,
        }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_foreign_folder_is_refused_untouched()
    {
        string root = TinyRun.TempDir("reproduce-guard");
        try
        {
            File.WriteAllText(Path.Combine(root, "notes.txt"), "mine");
            var r = Cli.CliRunner.Run("reproduce", "babilong", "--out", root, "--threads", "1");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("not empty and not a `perk reproduce babilong` run (it holds \"notes.txt\")", r.Stderr);
            Assert.Equal(new[] { Path.Combine(root, "notes.txt") }, Directory.GetFileSystemEntries(root));

            // A reproduction of another experiment is not resumed as this one.
            File.Delete(Path.Combine(root, "notes.txt"));
            File.WriteAllText(Path.Combine(root, BabilongReproduction.RunFile), "{\"experiment\": \"longgorilla\"}");
            var e = Assert.Throws<PerkException>(() => BabilongReproduction.Run(new ReproduceOptions { Root = root }, new Phases(TextWriter.Null, true)));
            Assert.Contains("holds a `perk reproduce longgorilla` run, not babilong", e.Message);
            Assert.Single(Directory.GetFileSystemEntries(root));
        }
        finally { Directory.Delete(root, true); }
    }

}
