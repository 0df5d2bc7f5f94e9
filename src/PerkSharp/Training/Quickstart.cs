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
    /// <summary>
    /// A ready base model folder (the shipped one by default in the CLI) copied into the run instead of pretraining;
    /// null = pretrain with <see cref="Pretrain"/> (reused when the run's base has the same recipe).
    /// </summary>
    public string? BaseDir { get; init; }
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
    /// <summary>Jobs run side by side (<see cref="Runtime.Lanes"/>); 0 = one per core, at most 2.</summary>
    public int Lanes { get; init; }
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
        using var bm = o.BaseDir != null ? BaseModel.CopyFrom(o.BaseDir, baseDir)
            : BaseModel.LoadOrPretrain(baseDir, () => QuickstartData.PretrainCorpus(train, o.ProseSentences, o.Tasks, o.Pretrain.Drills, o.DataSeed), o.Pretrain, o.MaxVocab, log);
        Done($"base model: {bm.Describe()}");

        // 3-5 run in two lanes (Lanes: one libtorch thread each, which the tiny model's small ops prefer): lane 0
        // meta-trains PERK, lane 1 fine-tunes FT-ICR on its own copy of the base, picks TTFT's rate and evaluates the
        // baselines. Then PERK's test cells are split over both lanes, each with its own model and meta-parameters.
        int lanes = o.Lanes > 0 ? o.Lanes : Lanes.Auto();
        int threadsPerLane = Math.Max(1, TorchSharp.torch.get_num_threads() / lanes);       // 1 lane: all threads
        var perkOverrides = o.PerkOverrides.Append($"output_dir={Path.Combine(root, "perk")}");
        string? warmDir = o.WarmupCount > 0 ? Path.Combine(root, $"perk_{o.WarmupLength}") : null;
        if (warmDir != null) perkOverrides = perkOverrides.Append($"init_from={warmDir}");
        var perkCfg = TrainConfigLoader.Parse(o.PerkYaml, "tiny_qa1.yaml", perkOverrides);
        var ftCfg = TrainConfigLoader.Parse(o.FtIcrYaml, "tiny_ft_icr.yaml", o.FtIcrOverrides.Append($"output_dir={Path.Combine(root, "ft_icr")}"));
        string evalRoot = Path.Combine(root, "eval");
        if (Directory.Exists(evalRoot)) Directory.Delete(evalRoot, recursive: true);     // the summary covers this run only
        // Every (cell, method) keeps the seed it has in the sequential order, whichever lane runs it.
        var cells = new List<(int Task, string Length, List<PerkExample> Examples, int SeedIndex)>();
        int seedIndex = 0;
        foreach (var (task, len, examples) in tests) { cells.Add((task, len, examples, seedIndex)); seedIndex += o.Bm25 ? 4 : 3; }
        var results = new System.Collections.Concurrent.ConcurrentDictionary<string, List<EvalRecord>>();
        void Eval(IEvalMethod m, (int Task, string Length, List<PerkExample> Examples, int SeedIndex) c, int offset)
        {
            string dir = Path.Combine(evalRoot, $"{m.Name}_qa{c.Task}_{c.Length}");
            results[dir] = EvalHarness.Run(m, c.Examples, (p, t) => (PerkMetrics.ExactMatch(p, t), PerkMetrics.F1(p, t)), dir,
                $"eval {m.Name} qa{c.Task} {c.Length}", seed: perkCfg.Seed + 1000 * (c.SeedIndex + offset), batchSize: o.EvalBatchSize);
        }
        void Log(Stopwatch sw, string what) => log.WriteLine($"[{Progress.Fmt(wall.Elapsed.TotalSeconds)}] {what} ({Progress.Fmt(sw.Elapsed.TotalSeconds)})");

        MetaTrainer? trainer = null;
        BaseModel? laneBase = null;
        MetaParameters? ftLora = null, ttft = null;
        try
        {
            var meta = new Stopwatch();
            var jobs = new Action[]
            {
                () =>
                {
                    // 3. PERK meta-training: the facts-only stage, then the training length from where it ended.
                    var sw = Stopwatch.StartNew();
                    if (warmDir != null)
                    {
                        var w = new List<PerkExample>(); var wv = new List<PerkExample>();
                        foreach (int t in o.Tasks)
                        {
                            w.AddRange(QuickstartData.Ensure(dataDir, t, o.WarmupLength, "train", o.WarmupCount, o.SegmentTokens, o.DataSeed));
                            wv.AddRange(QuickstartData.Ensure(dataDir, t, o.WarmupLength, "validation", o.ValCount, o.SegmentTokens, o.DataSeed));
                        }
                        var warmCfg = TrainConfigLoader.Parse(o.PerkYaml, "tiny_qa1.yaml", o.PerkOverrides.Concat(o.WarmupOverrides)
                            .Append($"dataset_subset=qa{o.Tasks[0]}_{o.WarmupLength}").Append($"output_dir={warmDir}"));
                        Reset(warmDir);
                        using var warm = new MetaTrainer(warmCfg, bm.Model, bm.Tokenizer, warmDir, baseDir);
                        var ws = warm.Run(w, wv);
                        LearningCurve.WriteInto(warmDir);
                        Log(sw, $"PERK stage 1 ({o.WarmupLength}, facts only): {ws.Steps} steps x {warmCfg.TrainBatchSize} examples, best val_loss {ws.BestValLoss:0.000}, val EM {ws.LastValEm:0.00}");
                        sw.Restart();
                    }
                    Reset(perkCfg.OutputDir);
                    trainer = new MetaTrainer(perkCfg, bm.Model, bm.Tokenizer, perkCfg.OutputDir, baseDir);
                    var ts = trainer.Run(train, val);
                    LearningCurve.WriteInto(perkCfg.OutputDir);
                    PerkCheckpoint.LoadMeta(CheckpointManager.Resolve(perkCfg.OutputDir), trainer.Meta);   // evaluate the best by val_loss
                    Log(sw, $"PERK meta-training ({o.TrainLength}): {ts.Steps} steps x {perkCfg.TrainBatchSize} examples, best val_loss {ts.BestValLoss:0.000}, skipped {ts.SkippedSteps}");
                },
                () =>
                {
                    // 4. FT-ICR, on the lane's own copy of the base model.
                    var sw = Stopwatch.StartNew();
                    laneBase = lanes > 1 ? BaseModel.Load(baseDir) : null;
                    var lm = laneBase ?? bm;
                    Reset(ftCfg.OutputDir);
                    FtIcrTrainer.Train(ftCfg, lm.Model, lm.Tokenizer, train, baseDir);
                    ftLora = new MetaParameters(lm.Model, FtIcrTrainer.LoraOnly(ftCfg), seed: ftCfg.Seed);
                    PerkCheckpoint.LoadMeta(CheckpointManager.Resolve(ftCfg.OutputDir, preferLast: true), ftLora);
                    Log(sw, "FT-ICR fine-tuning"); sw.Restart();

                    // 5. TTFT: PERK's inner loop from a fresh LoRA, fixed rate (picked on validation), uniform weights.
                    var ttftSettings = PerkSettingsMapper.ToSettings(perkCfg) with { LearnedStepSizes = false, WeightedLoss = false };
                    double bestRate = o.TtftRates[0], bestLoss = double.PositiveInfinity;
                    foreach (var rate in o.TtftRates)
                    {
                        using var m = new MetaParameters(lm.Model, ttftSettings with { InnerLr = rate }, seed: perkCfg.Seed);
                        var pm = new PerkMethod(new PerkSystem(lm.Model, lm.Tokenizer, m, baseDir), perkCfg.MaxNewTokens, "ttft");
                        double l = val.Select(pm.AnswerLossAfterAdaptation).Where(double.IsFinite).DefaultIfEmpty(double.PositiveInfinity).Average();
                        if (l < bestLoss) { bestLoss = l; bestRate = rate; }
                    }
                    ttft = new MetaParameters(lm.Model, ttftSettings with { InnerLr = bestRate }, seed: perkCfg.Seed);
                    Log(sw, $"TTFT: fixed inner rate {bestRate.ToString(CultureInfo.InvariantCulture)} chosen on validation (answer loss {bestLoss:0.000})"); sw.Restart();

                    // 6a. The baselines' evaluation.
                    var baselines = new List<IEvalMethod>
                    {
                        new InContextMethod(lm.Model, lm.Tokenizer, ftLora, perkCfg.MaxNewTokens, "ft_icr"),
                        new PerkMethod(new PerkSystem(lm.Model, lm.Tokenizer, ttft, baseDir), perkCfg.MaxNewTokens, "ttft"),
                    };
                    if (o.Bm25) baselines.Add(new InContextMethod(lm.Model, lm.Tokenizer, ftLora, perkCfg.MaxNewTokens, "bm25_top1", bm25TopK: 1));
                    foreach (var c in cells)
                        for (int k = 0; k < baselines.Count; k++) Eval(baselines[k], c, 1 + k);
                    Log(sw, "baselines evaluated");
                },
            };
            if (lanes > 1) Lanes.Run(jobs, threadsPerLane);
            else foreach (var job in jobs) job();

            // 6b. PERK's evaluation, its cells split over the lanes (cost ~ segments per example).
            var sw6 = Stopwatch.StartNew();
            var split = Lanes.Split(cells.Select(c => (double)c.Examples.Sum(e => e.Context.Count)).ToList(), lanes);
            var perkJobs = split.Select((idx, lane) => (Action)(() =>
            {
                if (lane == 0) { foreach (int i in idx) Eval(new PerkMethod(trainer!.System, perkCfg.MaxNewTokens, "perk"), cells[i], 0); return; }
                using var lm = BaseModel.Load(baseDir);
                using var m = new MetaParameters(lm.Model, PerkSettingsMapper.ToSettings(perkCfg), seed: perkCfg.Seed);
                PerkCheckpoint.LoadMeta(CheckpointManager.Resolve(perkCfg.OutputDir), m);
                var method = new PerkMethod(new PerkSystem(lm.Model, lm.Tokenizer, m, baseDir), perkCfg.MaxNewTokens, "perk");
                foreach (int i in idx) Eval(method, cells[i], 0);
            })).ToList();
            Lanes.Run(perkJobs, threadsPerLane);
            Log(sw6, "PERK evaluated");
        }
        finally
        {
            ttft?.Dispose(); ftLora?.Dispose(); laneBase?.Dispose(); trainer?.Dispose();
        }
        Done($"training and evaluation in {lanes} lane(s) of {threadsPerLane} thread(s)");
        var all = results.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value).ToList();

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
