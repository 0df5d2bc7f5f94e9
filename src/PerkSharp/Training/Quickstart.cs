using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Data;
using PerkSharp.Evaluation;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;

namespace PerkSharp.Training;

/// <summary>Sizes of the quickstart (chosen by measurement to fit about 10 minutes on 2 cores).</summary>
public sealed record QuickstartOptions
{
    public string Root { get; init; } = "runs/quickstart";
    public int[] Tasks { get; init; } = { 1 };
    public string TrainLength { get; init; } = "1k";
    public string[] EvalLengths { get; init; } = { "1k", "2k", "4k" };
    public int TrainCount { get; init; } = 400;
    public int ValCount { get; init; } = 24;
    public int TestCount { get; init; } = 30;
    public int SegmentTokens { get; init; } = 128;
    public ulong DataSeed { get; init; } = PerkRandom.DefaultSeed;
    public int ProseSentences { get; init; } = 6000;
    public int MaxVocab { get; init; } = 3000;
    public PretrainOptions Pretrain { get; init; } = new();
    /// <summary>PERK config (YAML text); the embedded configs/tiny_qa1.yaml by default.</summary>
    public string PerkYaml { get; init; } = ShippedConfigs.Read("tiny_qa1.yaml");
    public string FtIcrYaml { get; init; } = ShippedConfigs.Read("tiny_ft_icr.yaml");
    /// <summary>key=value overrides of the PERK config (e.g. dyna_lr=false for an ablation).</summary>
    public string[] PerkOverrides { get; init; } = Array.Empty<string>();
    public string[] FtIcrOverrides { get; init; } = Array.Empty<string>();
    /// <summary>Fixed inner rates tried for TTFT on the validation split (the best by answer loss is used).</summary>
    public double[] TtftRates { get; init; } = { 1e-3, 3e-3, 1e-2 };
    public bool Bm25 { get; init; } = true;
    /// <summary>
    /// Curriculum: PERK first meta-trains on this many facts-only (<see cref="WarmupLength"/>) examples, then on the
    /// training length starting from what it learned (init_from). 0 = no warm-up stage. Facts-only examples are one
    /// short segment, so batches of them are cheap: the stage teaches memorise-and-recall before the haystack.
    /// </summary>
    public int WarmupCount { get; init; } = 2400;
    public string WarmupLength { get; init; } = "0k";
    public string[] WarmupOverrides { get; init; } = { "train_batch_size=16", "eval_batch_size=16", "val_check_interval=0.5" };
    /// <summary>Examples encoded and decoded together when PERK and TTFT are evaluated.</summary>
    public int EvalBatchSize { get; init; } = 8;
}

/// <summary>
/// `perk quickstart`: the whole pipeline on an embedded default — generate BabiLong, pretrain (or reuse) the tiny
/// base model, meta-train PERK, fine-tune FT-ICR, evaluate PERK, FT-ICR, TTFT (and BM25 top-1 in context) at the
/// training length and at 2x and 4x, and write <c>summary.json</c> whose every number is a mean over an
/// <c>outputs.jsonl</c> beside it.
/// </summary>
public static class Quickstart
{
    public static JsonObject Run(QuickstartOptions o, TextWriter log)
    {
        var wall = Stopwatch.StartNew();
        string root = o.Root;
        Directory.CreateDirectory(root);
        string dataDir = Path.Combine(root, "data");
        var phase = Stopwatch.StartNew();
        void Done(string what) { log.WriteLine($"[{Progress.Fmt(wall.Elapsed.TotalSeconds)}] {what} ({Progress.Fmt(phase.Elapsed.TotalSeconds)})"); phase.Restart(); }

        // 1. Data.
        var train = new List<PerkExample>(); var val = new List<PerkExample>();
        var tests = new List<(int Task, string Length, List<PerkExample> Examples)>();
        foreach (int t in o.Tasks)
        {
            train.AddRange(QuickstartData.Ensure(dataDir, t, o.TrainLength, "train", o.TrainCount, o.SegmentTokens, o.DataSeed));
            val.AddRange(QuickstartData.Ensure(dataDir, t, o.TrainLength, "validation", o.ValCount, o.SegmentTokens, o.DataSeed));
            foreach (var len in o.EvalLengths)
                tests.Add((t, len, QuickstartData.Ensure(dataDir, t, len, "test", o.TestCount, o.SegmentTokens, o.DataSeed)));
        }
        Done($"data: {train.Count} train, {val.Count} validation, {tests.Sum(x => x.Examples.Count)} test examples under {dataDir}");

        // 2. Base model.
        string baseDir = Path.Combine(root, "base");
        using var bm = BaseModel.LoadOrPretrain(baseDir, () => QuickstartData.PretrainCorpus(train, o.ProseSentences, o.Tasks, o.Pretrain.Drills, o.DataSeed), o.Pretrain, o.MaxVocab, log);
        Done($"base model: {bm.Describe()}");

        // 3. PERK meta-training: the facts-only stage, then the training length from where it ended.
        var perkOverrides = o.PerkOverrides.Append($"output_dir={Path.Combine(root, "perk")}");
        if (o.WarmupCount > 0)
        {
            var w = new List<PerkExample>(); var wv = new List<PerkExample>();
            foreach (int t in o.Tasks)
            {
                w.AddRange(QuickstartData.Ensure(dataDir, t, o.WarmupLength, "train", o.WarmupCount, o.SegmentTokens, o.DataSeed));
                wv.AddRange(QuickstartData.Ensure(dataDir, t, o.WarmupLength, "validation", o.ValCount, o.SegmentTokens, o.DataSeed));
            }
            string warmDir = Path.Combine(root, $"perk_{o.WarmupLength}");
            var warmCfg = TrainConfigLoader.Parse(o.PerkYaml, "tiny_qa1.yaml", o.PerkOverrides.Concat(o.WarmupOverrides)
                .Append($"dataset_subset=qa{o.Tasks[0]}_{o.WarmupLength}").Append($"output_dir={warmDir}"));
            Reset(warmDir);
            using (var warm = new MetaTrainer(warmCfg, bm.Model, bm.Tokenizer, warmDir, baseDir))
            {
                var ws = warm.Run(w, wv);
                Done($"PERK stage 1 ({o.WarmupLength}, facts only): {ws.Steps} steps x {warmCfg.TrainBatchSize} examples, best val_loss {ws.BestValLoss:0.000}, val EM {ws.LastValEm:0.00}");
            }
            perkOverrides = perkOverrides.Append($"init_from={warmDir}");
        }
        var perkCfg = TrainConfigLoader.Parse(o.PerkYaml, "tiny_qa1.yaml", perkOverrides);
        Reset(perkCfg.OutputDir);
        using var trainer = new MetaTrainer(perkCfg, bm.Model, bm.Tokenizer, perkCfg.OutputDir, baseDir);
        var ts = trainer.Run(train, val);
        PerkCheckpoint.LoadMeta(CheckpointManager.Resolve(perkCfg.OutputDir), trainer.Meta);   // evaluate the best by val_loss
        Done($"PERK meta-training ({o.TrainLength}): {ts.Steps} steps x {perkCfg.TrainBatchSize} examples, best val_loss {ts.BestValLoss:0.000}, skipped {ts.SkippedSteps}");

        // 4. FT-ICR.
        var ftCfg = TrainConfigLoader.Parse(o.FtIcrYaml, "tiny_ft_icr.yaml", o.FtIcrOverrides.Append($"output_dir={Path.Combine(root, "ft_icr")}"));
        Reset(ftCfg.OutputDir);
        FtIcrTrainer.Train(ftCfg, bm.Model, bm.Tokenizer, train, baseDir);
        using var ftLora = new MetaParameters(bm.Model, FtIcrTrainer.LoraOnly(ftCfg), seed: ftCfg.Seed);
        PerkCheckpoint.LoadMeta(CheckpointManager.Resolve(ftCfg.OutputDir, preferLast: true), ftLora);
        Done("FT-ICR fine-tuning");

        // 5. TTFT: PERK's inner loop from a fresh LoRA, fixed rate (picked on validation), uniform weights.
        var ttftSettings = PerkSettingsMapper.ToSettings(perkCfg) with { LearnedStepSizes = false, WeightedLoss = false };
        double bestRate = o.TtftRates[0], bestLoss = double.PositiveInfinity;
        foreach (var rate in o.TtftRates)
        {
            using var m = new MetaParameters(bm.Model, ttftSettings with { InnerLr = rate }, seed: perkCfg.Seed);
            var pm = new PerkMethod(new PerkSystem(bm.Model, bm.Tokenizer, m, baseDir), perkCfg.MaxNewTokens, "ttft");
            double l = val.Select(pm.AnswerLossAfterAdaptation).Where(double.IsFinite).DefaultIfEmpty(double.PositiveInfinity).Average();
            if (l < bestLoss) { bestLoss = l; bestRate = rate; }
        }
        using var ttft = new MetaParameters(bm.Model, ttftSettings with { InnerLr = bestRate }, seed: perkCfg.Seed);
        Done($"TTFT: fixed inner rate {bestRate.ToString(CultureInfo.InvariantCulture)} chosen on validation (answer loss {bestLoss:0.000})");

        // 6. Evaluation.
        var methods = new List<IEvalMethod>
        {
            new PerkMethod(trainer.System, perkCfg.MaxNewTokens, "perk"),
            new InContextMethod(bm.Model, bm.Tokenizer, ftLora, perkCfg.MaxNewTokens, "ft_icr"),
            new PerkMethod(new PerkSystem(bm.Model, bm.Tokenizer, ttft, baseDir), perkCfg.MaxNewTokens, "ttft"),
        };
        if (o.Bm25) methods.Add(new InContextMethod(bm.Model, bm.Tokenizer, ftLora, perkCfg.MaxNewTokens, "bm25_top1", bm25TopK: 1));
        var all = new List<EvalRecord>();
        string evalRoot = Path.Combine(root, "eval");
        if (Directory.Exists(evalRoot)) Directory.Delete(evalRoot, recursive: true);     // the summary covers this run only
        int seedIndex = 0;
        foreach (var (task, len, examples) in tests)
            foreach (var m in methods)
            {
                string dir = Path.Combine(evalRoot, $"{m.Name}_qa{task}_{len}");
                all.AddRange(EvalHarness.Run(m, examples, (p, t) => (PerkMetrics.ExactMatch(p, t), PerkMetrics.F1(p, t)), dir,
                    $"eval {m.Name} qa{task} {len}", seed: perkCfg.Seed + 1000 * seedIndex++, batchSize: o.EvalBatchSize));
            }
        Done("evaluation");

        ReportWriter.Write(all, Path.Combine(root, "report"));
        var summary = Summarize(evalRoot, wall.Elapsed.TotalSeconds);
        IO.AtomicFile.WriteAllText(Path.Combine(root, "summary.json"), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return summary;
    }

    /// <summary>
    /// summary.json from the outputs.jsonl files under <paramref name="evalRoot"/> (read back from disk, so every
    /// number is by construction a mean over those lines): one row per (method, task, length), with em_lo/em_hi the
    /// 95% Wilson interval of em.
    /// </summary>
    public static JsonObject Summarize(string evalRoot, double wallSeconds)
    {
        var records = Directory.GetFiles(evalRoot, "outputs.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .SelectMany(EvalRecord.ReadAll).ToList();
        var rows = new JsonArray();
        foreach (var g in records.GroupBy(r => (r.Method, r.Task, r.Length)).OrderBy(g => g.Key.Task, StringComparer.Ordinal)
                     .ThenBy(g => g.Key.Length).ThenBy(g => MethodOrder(g.Key.Method)))
        {
            var s = GroupStats.Of(g.ToList());
            var (lo, hi) = Wilson.Interval((int)Math.Round(g.Sum(r => r.Em)), s.N);        // EM is 0/1 per line: k = its sum
            rows.Add(new JsonObject { ["method"] = g.Key.Method, ["task"] = g.Key.Task, ["length"] = g.Key.Length, ["em"] = s.Em, ["em_lo"] = lo, ["em_hi"] = hi, ["f1"] = s.F1, ["subem"] = s.SubEm, ["n"] = s.N });
        }
        return new JsonObject { ["rows"] = rows, ["wall_seconds"] = Math.Round(wallSeconds, 1) };
    }

    static int MethodOrder(string m) => m switch { "perk" => 0, "ft_icr" => 1, "ttft" => 2, _ => 3 };

    /// <summary>The comparison table printed at the end (see <see cref="ResultTable"/>).</summary>
    public static string Table(JsonObject summary) => ResultTable.Markdown(summary);

    static void Reset(string runDir)
    {
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
    }
}
