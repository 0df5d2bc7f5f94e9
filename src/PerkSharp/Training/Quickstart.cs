using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Data;
using PerkSharp.Evaluation;

namespace PerkSharp.Training;

/// <summary>Sizes of the quickstart (chosen by measurement to fit about 10 minutes on 2 cores).</summary>
public sealed record QuickstartOptions
{
    public string Root { get; init; } = "runs/quickstart";
    public int[] Tasks { get; init; } = { 1 };
    public string TrainLength { get; init; } = "1k";
    public string[] EvalLengths { get; init; } = { "1k", "2k", "4k" };
    public int TrainCount { get; init; } = 600;
    public int ValCount { get; init; } = 24;
    public int TestCount { get; init; } = 100;
    public int SegmentTokens { get; init; } = 128;
    public ulong DataSeed { get; init; } = PerkRandom.DefaultSeed;
    public int ProseSentences { get; init; } = 6000;
    public int MaxVocab { get; init; } = 3000;
    /// <summary>
    /// Training examples whose text enters the base model's pretraining corpus (the first ones): fixed, so that more
    /// meta-training examples do not change the base (the shipped models/tiny-qa1 was pretrained with 400).
    /// </summary>
    public int PretrainExamples { get; init; } = 400;
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
    public int WarmupCount { get; init; } = 4000;
    public string WarmupLength { get; init; } = "0k";
    /// <summary>
    /// The facts-only stage's own settings, chosen on its validation split (n = 100, qa1 0k): batches of 16, and an
    /// outer rate of 3e-3, which reached val EM 80% (val_loss 0.099) in 250 meta-steps where 1e-3 reached 78% (0.149); all its
    /// training examples (the 1k config's max_train_data cap is for the 1k stage).
    /// </summary>
    public string[] WarmupOverrides { get; init; } = { "train_batch_size=16", "eval_batch_size=16", "val_check_interval=0.5", "learning_rate=3e-3", "max_train_data=0" };
    /// <summary>
    /// Examples encoded and decoded together when PERK and TTFT are evaluated.
    /// 1, by measurement on the 2-core machine (one libtorch thread, the trained quickstart PERK): 1k, 32 examples
    /// 7.2 s at 1, 7.5 s at 4, 10.1 s at 8; 4k, 16 examples 14.2 s at 1, 14.5 s at 2, 21.0 s at 8.
    /// </summary>
    public int EvalBatchSize { get; init; } = 1;
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
        var phases = new Phases(log, resumable: false);         // a quickstart redoes its run (data and base model are reused as files)
        string root = o.Root;
        Directory.CreateDirectory(root);
        string dataDir = Path.Combine(root, "data");

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
        phases.Done($"data: {train.Count} train, {val.Count} validation, {tests.Sum(x => x.Examples.Count)} test examples under {dataDir}");

        // 2. Base model.
        string baseDir = Path.Combine(root, "base");
        using var bm = o.BaseDir != null ? BaseModel.CopyFrom(o.BaseDir, baseDir)
            : BaseModel.LoadOrPretrain(baseDir, () => QuickstartData.PretrainCorpus(train.Take(o.PretrainExamples).ToList(), o.ProseSentences, o.Tasks, o.Pretrain, o.DataSeed), o.Pretrain, o.MaxVocab, log,
                reading: () => QuickstartData.Reading(o.Tasks, o.Pretrain, QuickstartData.ProbeDrills, o.DataSeed));
        phases.Done($"base model: {bm.Describe()}");
        var pipeline = new BabilongPipeline(bm.Model, bm.Tokenizer, baseDir, baseId: "", phases);

        // 3. PERK meta-training: the facts-only stage, then the training length from where it ended. Every run's
        // config.yaml names this run's base and data (not the YAML's runs/quickstart defaults), so it states the run.
        var paths = new[] { $"model_name_or_path={baseDir}", $"data_dir={dataDir}" };
        var perkOverrides = paths.Concat(o.PerkOverrides).ToList();
        var curriculum = new List<PerkStage>();
        if (o.WarmupCount > 0)
        {
            var w = new List<PerkExample>(); var wv = new List<PerkExample>();
            foreach (int t in o.Tasks)
            {
                w.AddRange(QuickstartData.Ensure(dataDir, t, o.WarmupLength, "train", o.WarmupCount, o.SegmentTokens, o.DataSeed));
                wv.AddRange(QuickstartData.Ensure(dataDir, t, o.WarmupLength, "validation", o.ValCount, o.SegmentTokens, o.DataSeed));
            }
            curriculum.Add(new PerkStage($"PERK stage 1 ({o.WarmupLength}, facts only)", Path.Combine(root, $"perk_{o.WarmupLength}"), w, wv,
                perkOverrides.Concat(o.WarmupOverrides).Append($"dataset_subset=qa{o.Tasks[0]}_{o.WarmupLength}").ToList()));
        }
        curriculum.Add(new PerkStage($"PERK meta-training ({o.TrainLength})", Path.Combine(root, "perk"), train, val, perkOverrides));
        // The last stage's config, known before training (TTFT copies its sizes and rates; lane 1 needs it early).
        var perkCfg = BabilongPipeline.StageConfig(o.PerkYaml, "tiny_qa1.yaml", curriculum, curriculum.Count - 1);

        // 3-6 in lanes (Runtime.Lanes: one libtorch thread each, which the tiny model's small ops prefer): lane 0
        // meta-trains PERK; lane 1, on its own copy of the base, fine-tunes FT-ICR, picks TTFT's rate and evaluates the
        // baselines. Then PERK's test cells are split over the lanes, each lane with its own model and meta-parameters.
        int lanes = o.Lanes > 0 ? o.Lanes : Runtime.Lanes.Auto();
        int threadsPerLane = Math.Max(1, TorchSharp.torch.get_num_threads() / lanes);         // 1 lane: all threads
        using var laneBase = lanes > 1 ? BaseModel.Load(baseDir) : null;
        var pipelineB = laneBase != null ? new BabilongPipeline(laneBase.Model, laneBase.Tokenizer, baseDir, baseId: "", phases) : pipeline;
        string evalRoot = Path.Combine(root, "eval");
        if (Directory.Exists(evalRoot)) Directory.Delete(evalRoot, recursive: true);     // the summary covers this run only
        var methodNames = new List<string> { "perk", "ft_icr", "ttft" };
        if (o.Bm25) methodNames.Add("bm25_top1");
        var results = new System.Collections.Concurrent.ConcurrentDictionary<(int Cell, int Method), List<EvalRecord>>();
        void Eval(BabilongPipeline p, (IEvalMethod Method, string Recipe) m, int cell)
        {
            var (task, len, examples) = tests[cell];
            int k = methodNames.IndexOf(m.Method.Name);
            // Each (cell, method) keeps the seed it has in the sequential order, whichever lane runs it.
            results[(cell, k)] = p.Evaluate(m.Method, m.Recipe, examples, Path.Combine(evalRoot, $"{m.Method.Name}_qa{task}_{len}"),
                $"eval {m.Method.Name} qa{task} {len}", seed: perkCfg.Seed + 1000 * (cell * methodNames.Count + k), batchSize: o.EvalBatchSize);
        }
        Trained? perk = null, ftIcr = null, ttft = null;
        try
        {
            var jobs = new List<Action>
            {
                () => perk = pipeline.TrainPerk(o.PerkYaml, "tiny_qa1.yaml", curriculum),
                () =>
                {
                    // 4. FT-ICR. 5. TTFT: PERK's inner loop from a fresh LoRA, fixed rate (picked on validation), uniform weights.
                    ftIcr = pipelineB.TrainFtIcr(o.FtIcrYaml, "tiny_ft_icr.yaml", paths.Concat(o.FtIcrOverrides), Path.Combine(root, "ft_icr"), train);
                    ttft = pipelineB.ChooseTtftRate(perkCfg, o.TtftRates, val, Path.Combine(root, "ttft"));
                    // 6a. The baselines' evaluation.
                    var baselines = pipelineB.Baselines(ftIcr, ttft, o.Bm25, perkCfg.MaxNewTokens);
                    for (int c = 0; c < tests.Count; c++)
                        foreach (var m in baselines) Eval(pipelineB, m, c);
                },
            };
            Runtime.Lanes.Run(jobs, threadsPerLane, concurrent: lanes > 1);

            // 6b. PERK's evaluation, its cells split over the lanes (cost ~ segments per example).
            var split = Runtime.Lanes.Split(tests.Select(t => (double)t.Examples.Sum(e => e.Context.Count)).ToList(), lanes);
            Runtime.Lanes.Run(split.Select((cells, lane) => (Action)(() =>
            {
                var p = lane == 0 ? pipeline : pipelineB;
                using var copy = lane == 0 ? null : p.Copy(perk!);
                var m = p.PerkMethodOf(copy ?? perk!);
                foreach (int c in cells) Eval(p, m, c);
            })).ToList(), threadsPerLane);
        }
        finally
        {
            perk?.Dispose(); ftIcr?.Dispose(); ttft?.Dispose();
        }
        var all = results.OrderBy(kv => kv.Key.Cell).ThenBy(kv => kv.Key.Method).SelectMany(kv => kv.Value).ToList();

        ReportWriter.Write(all, Path.Combine(root, "report"));
        var summary = Summarize(evalRoot, phases.WallSeconds);
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
}
