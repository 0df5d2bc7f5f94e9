using System.Globalization;
using System.Text.Json.Nodes;
using PerkSharp.Data;
using PerkSharp.Evaluation;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Tokenization;

namespace PerkSharp.Training;

/// <summary>
/// One stage of a PERK curriculum: its run folder, its data, overrides of the PERK config, and a description of the
/// data (part of the stage's recipe, so a resumable run retrains when the data changes).
/// </summary>
public sealed record PerkStage(string Label, string RunDir, IReadOnlyList<PerkExample> Train, IReadOnlyList<PerkExample> Val,
                               IReadOnlyList<string> Overrides, string DataRecipe = "");

/// <summary>Trained parameters (PERK's meta-parameters, a TTFT start, an FT-ICR LoRA) with their config and recipe.</summary>
public sealed class Trained : IDisposable
{
    public Trained(MetaParameters meta, TrainConfig config, string recipe)
    {
        Meta = meta; Config = config; Recipe = recipe;
    }

    public MetaParameters Meta { get; }
    public TrainConfig Config { get; }
    /// <summary>What produced these parameters; evaluations name it in their own recipes.</summary>
    public string Recipe { get; }

    public void Dispose() => Meta.Dispose();
}

/// <summary>
/// The stages the BabiLong experiments share (`perk quickstart`, `perk reproduce babilong`): PERK meta-training over a
/// curriculum (each stage starts from the previous stage's best, init_from), FT-ICR fine-tuning, the TTFT rate chosen
/// on validation, the methods compared, and one evaluation per (method, task, length). Every stage is a phase of
/// <see cref="Phases"/>, so the same code is resumable when the runner is.
/// </summary>
public sealed class BabilongPipeline
{
    readonly CausalLM _model;
    readonly ITokenizer _tok;
    readonly string _baseDir;
    readonly string _baseId;
    readonly Phases _phases;
    readonly TextWriter? _progress;

    /// <param name="baseId">Identity of the base model's weights (part of every recipe).</param>
    /// <param name="progress">Where progress bars go (null: stderr).</param>
    public BabilongPipeline(CausalLM model, ITokenizer tokenizer, string baseDir, string baseId, Phases phases, TextWriter? progress = null)
    {
        _model = model; _tok = tokenizer; _baseDir = baseDir; _baseId = baseId; _phases = phases; _progress = progress;
    }

    public static readonly Scorer Score = (p, t) => (PerkMetrics.ExactMatch(p, t), PerkMetrics.F1(p, t));

    /// <summary>Meta-trains the stages in order; returns the last stage's best meta-parameters by val_loss.</summary>
    public Trained TrainPerk(string yaml, string source, IReadOnlyList<PerkStage> curriculum)
    {
        if (curriculum.Count == 0) throw new Runtime.PerkException("PERK: the curriculum has no stage");
        string? previousDir = null;
        string previousRecipe = "";
        TrainConfig cfg = null!;
        for (int i = 0; i < curriculum.Count; i++)
        {
            var stage = curriculum[i];
            var c = cfg = StageConfig(yaml, source, curriculum, i);
            string recipe = Recipe("perk", c, stage.DataRecipe, previousRecipe);
            _phases.Run(stage.Label, stage.RunDir, recipe, () =>
            {
                Reset(c.OutputDir);
                using var trainer = new MetaTrainer(c, _model, _tok, c.OutputDir, _baseDir);
                var summary = trainer.Run(stage.Train, stage.Val, progressOut: _progress);
                LearningCurve.WriteInto(c.OutputDir);                              // every run shows how it learned
                return Result(summary);
            }, r => $"{stage.Label}: {r["steps"]} steps x {c.TrainBatchSize} examples, best val_loss {F(r["best_val_loss"], "0.000")}, " +
                    $"val EM {F(r["val_em"], "0.00")}, skipped {r["skipped"]}");
            previousDir = stage.RunDir;
            // What the next stage starts from and what evaluations use: the best checkpoint, named by its bytes, so a
            // stage redone after a kill changes its dependents' recipes only if it trained to other weights.
            previousRecipe = recipe + "\nweights " + WeightsHash(CheckpointManager.Resolve(stage.RunDir));
        }
        var meta = new MetaParameters(_model, PerkSettingsMapper.ToSettings(cfg), seed: cfg.Seed);
        PerkCheckpoint.LoadMeta(CheckpointManager.Resolve(cfg.OutputDir), meta);            // evaluate the best by val_loss
        return new Trained(meta, cfg, previousRecipe);
    }

    /// <summary>The config of curriculum stage <paramref name="i"/>: its overrides, its run folder, and init_from the previous stage.</summary>
    public static TrainConfig StageConfig(string yaml, string source, IReadOnlyList<PerkStage> curriculum, int i)
    {
        var overrides = curriculum[i].Overrides.Append($"output_dir={curriculum[i].RunDir}");
        if (i > 0) overrides = overrides.Append($"init_from={curriculum[i - 1].RunDir}");
        return TrainConfigLoader.Parse(yaml, source, overrides);
    }

    /// <summary>FT-ICR: the same LoRA fine-tuned with the context in the prompt; returns its last LoRA.</summary>
    public Trained TrainFtIcr(string yaml, string source, IEnumerable<string> overrides, string runDir, IReadOnlyList<PerkExample> train,
                              string dataRecipe = "", string label = "FT-ICR fine-tuning")
    {
        var cfg = TrainConfigLoader.Parse(yaml, source, overrides.Append($"output_dir={runDir}"));
        string recipe = Recipe("ft_icr", cfg, dataRecipe, "");
        _phases.Run(label, runDir, recipe, () =>
        {
            Reset(cfg.OutputDir);
            return Result(FtIcrTrainer.Train(cfg, _model, _tok, train, _baseDir, _progress));
        }, r => $"{label}: {r["steps"]} steps, skipped {r["skipped"]}");
        string checkpoint = CheckpointManager.Resolve(cfg.OutputDir, preferLast: true);
        var lora = new MetaParameters(_model, FtIcrTrainer.LoraOnly(cfg), seed: cfg.Seed);
        PerkCheckpoint.LoadMeta(checkpoint, lora);
        return new Trained(lora, cfg, recipe + "\nweights " + WeightsHash(checkpoint));
    }

    /// <summary>
    /// TTFT: PERK's inner loop from a fresh LoRA with uniform token weights and one fixed rate, the one of
    /// <paramref name="rates"/> with the lowest validation answer loss after adaptation.
    /// </summary>
    public Trained ChooseTtftRate(TrainConfig perkCfg, IReadOnlyList<double> rates, IReadOnlyList<PerkExample> val, string dir,
                                  string dataRecipe = "", string label = "TTFT")
    {
        if (rates.Count == 0) throw new Runtime.PerkException("TTFT: no candidate rates");
        var settings = PerkSettingsMapper.ToSettings(perkCfg) with { LearnedStepSizes = false, WeightedLoss = false };
        string recipe = Recipe("ttft", perkCfg, dataRecipe, "") + $"\nrates {string.Join(",", rates.Select(R))}";
        var r = _phases.Run(label, dir, recipe, () =>
        {
            double bestRate = rates[0], bestLoss = double.PositiveInfinity;
            foreach (var rate in rates)
            {
                using var m = new MetaParameters(_model, settings with { InnerLr = rate }, seed: perkCfg.Seed);
                var pm = new PerkMethod(new PerkSystem(_model, _tok, m, _baseDir), perkCfg.MaxNewTokens, "ttft");
                double l = val.Select(pm.AnswerLossAfterAdaptation).Where(double.IsFinite).DefaultIfEmpty(double.PositiveInfinity).Average();
                if (l < bestLoss) { bestLoss = l; bestRate = rate; }
            }
            return new JsonObject { ["rate"] = bestRate, ["val_answer_loss"] = double.IsFinite(bestLoss) ? bestLoss : null };
        }, r => $"{label}: fixed inner rate {R((double)r["rate"]!)} chosen on validation (answer loss {F(r["val_answer_loss"], "0.000")})");
        double chosen = (double)r["rate"]!;
        var meta = new MetaParameters(_model, settings with { InnerLr = chosen }, seed: perkCfg.Seed);
        return new Trained(meta, perkCfg, recipe + $"\nchosen {R(chosen)}");
    }

    /// <summary>The compared methods with the recipe of what each answers with: PERK, FT-ICR, TTFT and optionally BM25 top-1 (FT-ICR's LoRA).</summary>
    public List<(IEvalMethod Method, string Recipe)> Methods(Trained perk, Trained ftIcr, Trained ttft, bool bm25) =>
        Baselines(ftIcr, ttft, bm25, perk.Config.MaxNewTokens).Prepend(PerkMethodOf(perk)).ToList();

    /// <summary>PERK answering with <paramref name="perk"/>'s meta-parameters on this pipeline's model.</summary>
    public (IEvalMethod Method, string Recipe) PerkMethodOf(Trained perk) =>
        (new PerkMethod(new PerkSystem(_model, _tok, perk.Meta, _baseDir), perk.Config.MaxNewTokens, "perk"), perk.Recipe + Tail(perk.Config.MaxNewTokens));

    /// <summary>FT-ICR, TTFT and optionally BM25 top-1 (FT-ICR's LoRA with the best segment in the prompt).</summary>
    public List<(IEvalMethod Method, string Recipe)> Baselines(Trained ftIcr, Trained ttft, bool bm25, int maxNew)
    {
        string tail = Tail(maxNew);
        var list = new List<(IEvalMethod, string)>
        {
            (new InContextMethod(_model, _tok, ftIcr.Meta, maxNew, "ft_icr"), ftIcr.Recipe + tail),
            (new PerkMethod(new PerkSystem(_model, _tok, ttft.Meta, _baseDir), maxNew, "ttft"), ttft.Recipe + tail),
        };
        if (bm25) list.Add((new InContextMethod(_model, _tok, ftIcr.Meta, maxNew, "bm25_top1", bm25TopK: 1), ftIcr.Recipe + tail + "\nbm25 top-1"));
        return list;
    }

    static string Tail(int maxNew) => $"\nmax_new_tokens {maxNew}";

    /// <summary>
    /// The same trained parameters on this pipeline's model (another lane's copy of the base): nothing mutable is
    /// shared between lanes.
    /// </summary>
    public Trained Copy(Trained t)
    {
        var meta = new MetaParameters(_model, t.Meta.Settings, t.Meta.DType, seed: t.Config.Seed);
        using (TorchSharp.torch.no_grad())
            foreach (var ((_, dst), (_, src)) in meta.named_parameters().Zip(t.Meta.named_parameters())) dst.copy_(src);
        return new Trained(meta, t.Config, t.Recipe);
    }

    /// <summary>
    /// One evaluation cell: outputs.jsonl and metrics.json in <paramref name="dir"/>. A resumable run reuses the cell
    /// only when both files are there and outputs.jsonl has a line per example; the records are then read back.
    /// </summary>
    public List<EvalRecord> Evaluate(IEvalMethod method, string methodRecipe, IReadOnlyList<PerkExample> examples, string dir,
                                     string label, int seed, int batchSize, string dataRecipe = "")
    {
        string recipe = $"eval {method.Name}\nmethod {Phases.Hash(methodRecipe)}\ndata {dataRecipe}\nn {examples.Count}\nseed {seed}\nbatch {batchSize}";
        string outputs = Path.Combine(dir, EvalFolder.Outputs);
        bool Complete()
        {
            if (!File.Exists(outputs) || !File.Exists(Path.Combine(dir, EvalFolder.Metrics))) return false;
            try { return EvalRecord.ReadAll(outputs).Count == examples.Count; }
            catch (Runtime.PerkException) { return false; }
        }
        List<EvalRecord>? records = null;
        _phases.Run(label, dir, recipe, () =>
        {
            records = EvalHarness.Run(method, examples, Score, dir, label, _progress, seed, batchSize);
            var s = GroupStats.Of(records);
            return new JsonObject { ["n"] = s.N, ["em"] = s.Em, ["f1"] = s.F1, ["subem"] = s.SubEm };
        }, r => $"{label}: EM {F(r["em"], "0.000")} F1 {F(r["f1"], "0.000")} SubEM {F(r["subem"], "0.000")} (n={r["n"]})", Complete);
        return records ?? EvalRecord.ReadAll(outputs);
    }

    string Recipe(string kind, TrainConfig cfg, string dataRecipe, string after) =>
        $"{kind}\nbase {_baseId}\ndata {dataRecipe}\nafter {(after.Length > 0 ? Phases.Hash(after) : "none")}\n{TrainConfigLoader.ToYaml(cfg)}";

    static string WeightsHash(string checkpointDir) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(checkpointDir, PerkCheckpoint.MetaFile))));

    static JsonObject Result(TrainSummary s) => new()
    {
        ["steps"] = s.Steps, ["best_val_loss"] = Finite(s.BestValLoss), ["val_em"] = Finite(s.LastValEm),
        ["skipped"] = s.SkippedSteps, ["stopped_early"] = s.StoppedEarly, ["seconds"] = Math.Round(s.Seconds, 1),
    };

    static double? Finite(double? v) => v is double d && double.IsFinite(d) ? d : null;

    static string F(JsonNode? v, string format) => v is JsonValue j && j.TryGetValue(out double d) ? d.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static void Reset(string runDir)
    {
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
    }
}
