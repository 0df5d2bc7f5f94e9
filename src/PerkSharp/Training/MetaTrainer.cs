using System.Diagnostics;
using PerkSharp.Data;
using PerkSharp.Evaluation;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using static TorchSharp.torch;

namespace PerkSharp.Training;

/// <summary>What a training run ended with.</summary>
/// <param name="Interrupted">Cancelled (SIGINT/SIGTERM): the last finished step was checkpointed and the run can be resumed.</param>
public sealed record TrainSummary(long Steps, double? BestValLoss, double? LastValEm, int SkippedSteps, bool StoppedEarly, double Seconds, string RunDir,
                                  bool Interrupted = false);

/// <summary>
/// PERK meta-training (docs/DESIGN.md): train_batch_size examples per meta-step (1 officially; B > 1 runs
/// them as one batched computation, the meta-gradient being their mean) in a seeded per-epoch order, validation
/// every val_check_interval (val_loss = answer loss after test-time adaptation, plus EM on a fixed subset), early
/// stopping on val_loss, best-k + last checkpoints, metrics JSONL + TensorBoard. Every random choice inside step s is
/// seeded from (seed, s), so <c>resume</c> from a checkpoint replays the remaining steps exactly.
/// </summary>
public sealed class MetaTrainer : IDisposable
{
    readonly TrainConfig _cfg;
    readonly CausalLM _model;
    readonly ITokenizer _tok;
    readonly string _runDir;

    public MetaTrainer(TrainConfig cfg, CausalLM model, ITokenizer tokenizer, string runDir, string baseModelPath)
    {
        _cfg = cfg; _model = model; _tok = tokenizer; _runDir = runDir; BaseModelPath = baseModelPath;
        Meta = new MetaParameters(model, PerkSettingsMapper.ToSettings(cfg), seed: cfg.Seed);
        System = new PerkSystem(model, tokenizer, Meta, baseModelPath);
    }

    /// <summary>The test-time system over the meta-parameters being trained (validation, evaluation after training).</summary>
    public PerkSystem System { get; }

    public MetaParameters Meta { get; }
    public string BaseModelPath { get; }

    /// <summary>Called after every step with (step, result) — tests record the loss trajectory with it.</summary>
    public Action<long, MetaStepResult>? OnStep { get; init; }

    /// <param name="resume">Continue from checkpoints/last of the run folder.</param>
    /// <param name="stopAfter">Stop (and checkpoint) once this global step is reached, as if interrupted.</param>
    /// <param name="cancel">Checked after every step: the step in flight finishes, is checkpointed, and the run returns.</param>
    public TrainSummary Run(IReadOnlyList<PerkExample> train, IReadOnlyList<PerkExample> val, bool resume = false,
                            long? stopAfter = null, TextWriter? progressOut = null, CancellationToken cancel = default)
    {
        if (train.Count == 0) throw new PerkException("training set is empty");
        int perEpoch = _cfg.MaxTrainData > 0 ? Math.Min(_cfg.MaxTrainData, train.Count) : train.Count;
        int batch = Math.Min(_cfg.TrainBatchSize, perEpoch);
        int stepsPerEpoch = (perEpoch + batch - 1) / batch;                   // the last batch of an epoch may be smaller
        long total = (long)stepsPerEpoch * _cfg.NumTrainEpochs;
        if (_cfg.MaxSteps > 0) total = Math.Min(total, _cfg.MaxSteps);
        long interval = _cfg.ValCheckInterval <= 1 ? Math.Max(1, (long)Math.Round(_cfg.ValCheckInterval * stepsPerEpoch)) : (long)_cfg.ValCheckInterval;
        var valSet = val.Take(_cfg.MaxValData > 0 ? _cfg.MaxValData : val.Count).ToList();

        using var learner = new MetaLearner(_model, Meta, (int)total, MetaLearner.WarmupSteps((int)total, _cfg.WarmupProportion));
        var ckpt = new CheckpointManager(_runDir, _cfg.SaveTopK);
        var state = new TrainerState { TotalSteps = total };
        if (resume)
        {
            if (!File.Exists(Path.Combine(ckpt.LastDir, CheckpointManager.StateFile)))
                throw new PerkException($"{_runDir}: nothing to resume (no checkpoints/last)");
            state = PerkCheckpoint.Load(ckpt.LastDir, Meta, learner.Optimizer);
            learner.UpdatesApplied = (int)(state.GlobalStep - state.SkippedSteps);
            learner.SkippedSteps = state.SkippedSteps;
            if (state.TotalSteps != total)
                throw new PerkException($"{_runDir}: the run was planned for {state.TotalSteps} steps, this config gives {total} (change neither data nor epochs when resuming)");
        }
        else
        {
            PerkCheckpoint.EnsureFreshRunDir(_runDir);
            // Curriculum: the LoRA init, rates and token weights learned by an earlier run (fresh outer optimizer and schedule).
            if (_cfg.InitFrom.Length > 0) PerkCheckpoint.LoadMeta(CheckpointManager.Resolve(_cfg.InitFrom), Meta);
        }
        Directory.CreateDirectory(_runDir);
        IO.AtomicFile.WriteAllText(Path.Combine(_runDir, "config.yaml"), TrainConfigLoader.ToYaml(_cfg));
        using var log = new RunLog(_runDir, resume ? state.GlobalStep : null);
        var clock = Stopwatch.StartNew();
        double startElapsed = state.ElapsedSeconds;
        double? lastEm = null;
        using var bar = new Progress("meta-train", total, progressOut);
        bar.Report(state.GlobalStep);
        bool interrupted = false;
        // A resume at or past --stop-after trains nothing more.
        while (state.GlobalStep < total && !state.StoppedEarly && !(stopAfter is long sa0 && state.GlobalStep >= sa0))
        {
            long step = state.GlobalStep;
            var (epoch, index) = DataOrder.Locate(step, stepsPerEpoch);
            var order = DataOrder.Permutation(_cfg.Seed, epoch, perEpoch);
            var examples = order.Skip(index * batch).Take(batch).Select(i => train[i]).ToList();
            manual_seed(DataOrder.StepSeed(_cfg.Seed, step));
            var r = MetaStep(learner, examples, step);
            state.GlobalStep = step + 1;
            state.SkippedSteps = learner.SkippedSteps;
            OnStep?.Invoke(state.GlobalStep, r);
            if (state.GlobalStep % _cfg.LogEvery == 0 || r.Skipped)
            {
                var values = new Dictionary<string, double>
                {
                    ["outer_loss"] = r.OuterLoss, ["grad_norm"] = r.GradNorm, ["lr"] = r.LearningRate, ["skipped"] = r.Skipped ? 1 : 0,
                    ["epoch"] = epoch,
                };
                for (int i = 0; i < r.InnerLosses.Count; i++) values[$"inner_loss_{i}"] = r.InnerLosses[i];
                log.Write(state.GlobalStep, "train", values);
            }
            string inner = r.InnerLosses.Count > 0 ? $"inner {r.InnerLosses[0]:0.00}→{r.InnerLosses[^1]:0.00}" : "";
            bar.Report(state.GlobalStep, $"outer {r.OuterLoss:0.000} {inner}{(state.ValLoss is double v ? $" val {v:0.000}" : "")}");

            bool validate = state.GlobalStep % interval == 0 || state.GlobalStep == total;
            if (validate && valSet.Count > 0)
            {
                var (valLoss, em) = Validate(valSet, state.GlobalStep);
                lastEm = em;
                state.ValLoss = valLoss;
                log.Write(state.GlobalStep, "val", new Dictionary<string, double> { ["val_loss"] = valLoss, ["val_em"] = em ?? double.NaN });
                if (state.BestValLoss is not double best || valLoss < best) { state.BestValLoss = valLoss; state.ChecksWithoutImprovement = 0; }
                else if (++state.ChecksWithoutImprovement >= _cfg.Patience) state.StoppedEarly = true;
                state.ElapsedSeconds = startElapsed + clock.Elapsed.TotalSeconds;
                Save(ckpt, state, learner, valLoss);
            }
            else if (validate || (stopAfter is long sa && state.GlobalStep >= sa) || cancel.IsCancellationRequested)
            {
                state.ElapsedSeconds = startElapsed + clock.Elapsed.TotalSeconds;
                Save(ckpt, state, learner, null);
            }
            if (cancel.IsCancellationRequested) { interrupted = true; break; }
            if (stopAfter is long stop && state.GlobalStep >= stop) break;
        }
        return new TrainSummary(state.GlobalStep, state.BestValLoss, lastEm, state.SkippedSteps, state.StoppedEarly,
            startElapsed + clock.Elapsed.TotalSeconds, _runDir, interrupted);
    }

    MetaStepResult MetaStep(MetaLearner learner, IReadOnlyList<PerkExample> examples, long step)
    {
        var shuffles = examples.Select((_, j) => (Random?)DataOrder.ExampleRandom(_cfg.Seed, step, j)).ToList();
        var (context, question) = System.TrainingTensors(examples, shuffles);
        try { return learner.Step(context, question); }
        finally { foreach (var m in context) m.Dispose(); question.Dispose(); }
    }

    /// <summary>val_loss (answer loss after test-time adaptation, mean over the validation subset) and EM on its head.</summary>
    public (double Loss, double? Em) Validate(IReadOnlyList<PerkExample> valSet, long atStep)
    {
        manual_seed(DataOrder.StepSeed(_cfg.Seed, -1 - atStep));            // validation randomness never shifts training's
        var method = new PerkMethod(System, _cfg.MaxNewTokens);
        int b = _cfg.EvalBatchSize;
        double sum = 0; int n = 0;
        foreach (var chunk in valSet.Chunk(b))
            foreach (double l in method.AnswerLossesAfterAdaptation(chunk))
                if (double.IsFinite(l)) { sum += l; n++; }
        double? em = null;
        int k = Math.Min(_cfg.ValEmExamples, valSet.Count);
        if (k > 0)
        {
            double hits = 0;
            foreach (var chunk in valSet.Take(k).Chunk(b))
            {
                var answers = method.AnswerBatch(chunk);
                for (int i = 0; i < chunk.Length; i++)
                    hits += PerkMetrics.ExactMatch(answers[i].Output, PerkFormat.Target(chunk[i].Answer, chunk[i].Support));
            }
            em = hits / k;
        }
        return (n > 0 ? sum / n : double.NaN, em);
    }

    void Save(CheckpointManager ckpt, TrainerState state, MetaLearner learner, double? valLoss)
    {
        try { PerkCheckpoint.Save(ckpt, state, valLoss, Meta, learner.Optimizer, _cfg, BaseModelPath); }
        catch (NonFiniteException) { }                                  // never write NaN/Inf; the previous checkpoint stays
    }

    public void Dispose() => Meta.Dispose();
}
