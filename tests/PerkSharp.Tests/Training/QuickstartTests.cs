using PerkSharp.Evaluation;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <summary>`perk quickstart` at tiny sizes: the pipeline it shares with the reproduction writes the quickstart's own layout.</summary>
[Collection(SerialCollection.Name)]
public class QuickstartTests
{
    public static QuickstartOptions Tiny(string root) => new()
    {
        Root = root, EvalLengths = new[] { "1k", "2k" }, TrainCount = 3, ValCount = 2, TestCount = 3, WarmupCount = 4, ProseSentences = 16,
        MaxVocab = 400, TtftRates = new[] { 1e-3, 1e-2 }, EvalBatchSize = 2,
        Pretrain = new PretrainOptions { Layers = 1, Hidden = 16, Heads = 2, Positions = 256, Window = 32, BatchSize = 2, Steps = 3, Drills = 8 },
        PerkOverrides = new[] { "lora_rank=2", "lora_alpha=2", "n_inner_iter=2", "unroll_start=1", "max_new_tokens=4", "val_em_examples=2", "max_val_data=2" },
        WarmupOverrides = new[] { "train_batch_size=2", "eval_batch_size=2" },
        FtIcrOverrides = new[] { "lora_rank=2", "lora_alpha=2", "max_new_tokens=4" },
    };

    [Fact]
    public void Runs_end_to_end_into_its_folders_without_phase_markers()
    {
        TorchRuntime.Initialize();
        string root = TinyRun.TempDir("quickstart");
        try
        {
            var log = new StringWriter();
            var summary = Quickstart.Run(Tiny(root), log);
            foreach (var dir in new[] { "data", "base", "perk_0k", "perk", "ft_icr", "eval", "report" })
                Assert.True(Directory.Exists(Path.Combine(root, dir)), dir);
            var cells = Directory.GetDirectories(Path.Combine(root, "eval")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(new[] { "bm25_top1_qa1_1k", "bm25_top1_qa1_2k", "ft_icr_qa1_1k", "ft_icr_qa1_2k", "perk_qa1_1k", "perk_qa1_2k", "ttft_qa1_1k", "ttft_qa1_2k" }, cells);
            // The stage-2 run started from stage 1 (init_from) and the summary is the one recomputed from the outputs.
            Assert.Contains($"init_from: {Path.Combine(root, "perk_0k")}", File.ReadAllText(Path.Combine(root, "perk", "config.yaml")));
            // Each run's config states this run's base and data, whatever --out is.
            foreach (var run in new[] { "perk_0k", "perk", "ft_icr" })
            {
                string yaml = File.ReadAllText(Path.Combine(root, run, "config.yaml"));
                Assert.Contains($"model_name_or_path: {Path.Combine(root, "base")}\n", yaml);
                Assert.Contains($"data_dir: {Path.Combine(root, "data")}\n", yaml);
            }
            Assert.Equal(Quickstart.Summarize(Path.Combine(root, "eval"), 0)["rows"]!.ToJsonString(), summary["rows"]!.ToJsonString());
            Assert.Equal(8, summary["rows"]!.AsArray().Count);
            // EM, F1 and SubEM in every file, the printed table, the report and each cell's log line.
            PerkSharp.Tests.Evaluation.MetricTrio.AssertEverywhere(root);
            PerkSharp.Tests.Evaluation.MetricTrio.AssertTable(Quickstart.Table(summary));
            PerkSharp.Tests.Evaluation.MetricTrio.AssertTable(File.ReadAllText(Path.Combine(root, "report", "report.md")));
            Assert.Matches(@"eval perk qa1 1k: EM \d\.\d+ F1 \d\.\d+ SubEM \d\.\d+ \(n=3\)", log.ToString());
            // Not resumable: no markers, and every phase reported once.
            Assert.Empty(Directory.GetFiles(root, Phases.MarkerFile, SearchOption.AllDirectories));
            Assert.DoesNotContain("reused", log.ToString());
            Assert.Contains("PERK stage 1 (0k, facts only):", log.ToString());
            Assert.Contains("TTFT: fixed inner rate", log.ToString());
            Assert.True(new FileInfo(Path.Combine(root, "report", "accuracy_vs_length.png")).Length > 1000);
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public void Two_lanes_answer_exactly_as_one_lane()
    {
        TorchRuntime.Initialize(1);                 // one libtorch thread either way, so only the lanes differ
        string one = TinyRun.TempDir("quickstart-l1"), two = TinyRun.TempDir("quickstart-l2");
        try
        {
            Quickstart.Run(Tiny(one) with { Lanes = 1 }, new StringWriter());
            var log = new StringWriter();
            Quickstart.Run(Tiny(two) with { Lanes = 2 }, log);
            var cells = Directory.GetDirectories(Path.Combine(one, "eval")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(cells, Directory.GetDirectories(Path.Combine(two, "eval")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList());
            foreach (var cell in cells)
            {
                var a = EvalRecord.ReadAll(Path.Combine(one, "eval", cell!, "outputs.jsonl"));
                var b = EvalRecord.ReadAll(Path.Combine(two, "eval", cell!, "outputs.jsonl"));
                Assert.Equal(a.Select(r => (r.Guid, r.Prompt, r.Output, r.Em)), b.Select(r => (r.Guid, r.Prompt, r.Output, r.Em)));
            }
            // The same PERK and FT-ICR weights, trained side by side.
            foreach (var run in new[] { "perk", "ft_icr" })
                Assert.Equal(File.ReadAllBytes(Path.Combine(one, run, "checkpoints", "last", PerkCheckpoint.MetaFile)),
                             File.ReadAllBytes(Path.Combine(two, run, "checkpoints", "last", PerkCheckpoint.MetaFile)));
        }
        finally
        {
            TorchRuntime.Initialize();
            foreach (var d in new[] { one, two }) try { Directory.Delete(d, true); } catch (IOException) { }
        }
    }
}
