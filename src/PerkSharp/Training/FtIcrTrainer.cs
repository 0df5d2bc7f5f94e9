using PerkSharp.Data;
using PerkSharp.Evaluation;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Training;

/// <summary>
/// The FT-ICR baseline (docs/DESIGN.md): LoRA fine-tuning of the same base model on the same data with the whole
/// context in the prompt, loss on the answer only. The paper does not give its recipe; here it shares PERK's LoRA
/// (rank, alpha, targets), optimizer (AdamW, cosine with warmup, clipping) and data order, and saves the LoRA in the
/// same checkpoint format (method: ft_icr in config.yaml).
/// </summary>
public static class FtIcrTrainer
{
    /// <summary>Settings that make <see cref="MetaParameters"/> hold a LoRA only (no step sizes, no weighting).</summary>
    public static PerkSettings LoraOnly(TrainConfig cfg) => PerkSettingsMapper.ToSettings(cfg) with { LearnedStepSizes = false, WeightedLoss = false };

    public static TrainSummary Train(TrainConfig cfg, CausalLM model, ITokenizer tok, IReadOnlyList<PerkExample> train,
                                     string baseModelPath, TextWriter? progressOut = null, Action<long, double>? onStep = null)
    {
        if (train.Count == 0) throw new PerkException("training set is empty");
        string runDir = cfg.OutputDir;
        PerkCheckpoint.EnsureFreshRunDir(runDir);
        using var lora = new MetaParameters(model, LoraOnly(cfg), seed: cfg.Seed);
        int perEpoch = cfg.MaxTrainData > 0 ? Math.Min(cfg.MaxTrainData, train.Count) : train.Count;
        long total = (long)perEpoch * cfg.NumTrainEpochs;
        if (cfg.MaxSteps > 0) total = Math.Min(total, cfg.MaxSteps);
        var ps = lora.Lora.Initial.ToList();
        using var opt = optim.AdamW(ps, cfg.LearningRate, 0.9, 0.95, cfg.AdamEpsilon, cfg.WeightDecay);
        int warmup = MetaLearner.WarmupSteps((int)total, cfg.WarmupProportion);
        Directory.CreateDirectory(runDir);
        IO.AtomicFile.WriteAllText(Path.Combine(runDir, "config.yaml"), TrainConfigLoader.ToYaml(cfg));
        using var log = new RunLog(runDir);
        using var bar = new Progress("ft-icr", total, progressOut);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int skipped = 0;
        double ema = double.NaN;
        for (long step = 0; step < total; step++)
        {
            var (epoch, index) = DataOrder.Locate(step, perEpoch);
            var ex = train[DataOrder.Permutation(cfg.Seed, epoch, perEpoch)[index]];
            manual_seed(DataOrder.StepSeed(cfg.Seed, step));
            double loss;
            using (var scope = NewDisposeScope())
            {
                var (ids, promptLen) = InContextMethod.Encode(tok, model.Config.MaxPositionEmbeddings, ex.Context,
                    Enumerable.Range(0, ex.Context.Count).ToArray(), ex.Question, PerkFormat.Target(ex.Answer, ex.Support), 0);
                using var batch = PerkBatcher.Separate(new[] { new TokenizedSequence(ids, promptLen) }, tok.PadId);
                model.train(cfg.LoraDropout > 0);
                var output = model.forward(batch.ToInput(lora.Lora.State(ps.Cast<Tensor>().ToList(), training: cfg.LoraDropout > 0)));
                var l = Losses.AnswerLoss(output.Logits, batch.Labels);
                loss = l.ToDouble();
                opt.zero_grad();
                if (double.IsFinite(loss))
                {
                    l.backward();
                    double norm = nn.utils.clip_grad_norm_(ps, cfg.MaxGradNorm);
                    if (double.IsFinite(norm))
                    {
                        foreach (var g in opt.ParamGroups) g.LearningRate = cfg.LearningRate * MetaLearner.ScheduleFactor((int)step, warmup, (int)total);
                        opt.step();
                    }
                    else skipped++;
                }
                else skipped++;
                opt.zero_grad();
            }
            ema = double.IsNaN(ema) ? loss : 0.95 * ema + 0.05 * loss;
            if ((step + 1) % cfg.LogEvery == 0) log.Write(step + 1, "train", new Dictionary<string, double> { ["answer_loss"] = loss });
            onStep?.Invoke(step + 1, loss);
            bar.Report(step + 1, $"loss {ema:0.000}");
        }
        model.eval();
        var state = new TrainerState { GlobalStep = total, TotalSteps = total, SkippedSteps = skipped, ElapsedSeconds = clock.Elapsed.TotalSeconds };
        PerkCheckpoint.Save(new CheckpointManager(runDir, cfg.SaveTopK), state, null, lora, opt, cfg, baseModelPath);
        return new TrainSummary(total, null, null, skipped, false, clock.Elapsed.TotalSeconds, runDir);
    }
}
