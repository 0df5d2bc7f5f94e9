using System.CommandLine;
using System.Runtime.InteropServices;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk train --config FILE.yaml [key=value ...] [--resume]`: PERK meta-training (or FT-ICR with method: ft_icr).</summary>
public sealed class TrainCommand : ICliCommand
{
    public Command Build()
    {
        var config = new Option<string?>("--config") { Description = "YAML config with the official keys (see configs/); experiment=meta_train or experiment=meta_test names a shipped one" };
        var overrides = new Argument<string[]>("key=value") { Description = "Overrides applied after the file, e.g. lora_rank=16 dyna_lr=false", Arity = ArgumentArity.ZeroOrMore };
        var force = new Option<bool>("--force") { Description = "With do_train: false (a test config): replace an earlier evaluation of the run" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in output_dir from its last checkpoint (exactly: optimizer, schedule, data order, RNG)" };
        var stopAfter = new Option<long?>("--stop-after") { Description = "Stop and checkpoint after this many meta-steps (resume later with --resume)" };
        var listKeys = new Option<bool>("--list-keys") { Description = "List every config key with its default and meaning" };
        var cmd = new Command("train", "Meta-train PERK (or fine-tune the FT-ICR baseline) from a YAML config; a test config (do_train: false, " +
                                       "load_checkpoint: true, e.g. configs/meta_test.yaml) evaluates the run in output_dir instead") { config, overrides, resume, stopAfter, listKeys, force };
        cmd.SetHandler(parse =>
        {
            if (parse.GetValue(listKeys))
            {
                foreach (var (k, help, d) in TrainConfigLoader.Keys()) Console.WriteLine($"{k,-28} {d,-22} {help}");
                return 0;
            }
            var source = ConfigSource.Resolve(parse.GetValue(config), parse.GetValue(overrides), out var rest)
                ?? throw new PerkException("--config FILE.yaml or experiment=meta_train|meta_test is required (see configs/, or --list-keys)");
            var cfg = source.Load(rest);
            if (TestRun.Plan(cfg, source.Name) is { } test)
            {
                if (parse.GetValue(resume) || parse.GetValue(stopAfter) != null)
                    throw new PerkException($"{source.Name}: --resume and --stop-after apply to training, and this config has do_train: false");
                return TrainTestRun.Evaluate(parse, test, source, parse.GetValue(config), parse.GetValue(overrides) ?? Array.Empty<string>(), parse.GetValue(force));
            }
            if (parse.GetValue(stopAfter) is long sa && sa < 1) throw new PerkException($"--stop-after {sa}: expected a step number >= 1");
            // Before any work: one writer per run folder, and no mixing of two runs in one folder.
            using var runLock = RunFolder.Claim(cfg, parse.GetValue(resume));
            // SIGINT/SIGTERM: finish the step in flight, checkpoint it, exit non-zero (resumable with --resume).
            using var cancel = new CancellationTokenSource();
            int signal = 0;
            // FT-ICR has no resume, so a signal keeps its default meaning there.
            bool meta = cfg.Method != "ft_icr";
            using var onInt = meta ? PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; signal = 130; cancel.Cancel(); }) : null;
            using var onTerm = meta ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; signal = 143; cancel.Cancel(); }) : null;
            var data = TrainData.Load(cfg);
            var train = data.Train;
            using var bm = BaseModel.Load(cfg.ModelNameOrPath, cfg.Bf16);
            Console.Error.WriteLine($"train: {train.Count} examples of {cfg.DatasetName}/{cfg.DatasetSubset}; base {bm.Describe()}");
            TrainSummary s;
            if (cfg.Method == "ft_icr")
            {
                if (parse.GetValue(resume)) throw new PerkException("--resume applies to PERK meta-training runs; FT-ICR runs take minutes and restart");
                s = FtIcrTrainer.Train(cfg, bm.Model, bm.Tokenizer, train, cfg.ModelNameOrPath);
            }
            else
            {
                var val = data.Validation;
                if (data.MissingValidation != null) Console.Error.WriteLine($"train: no {data.MissingValidation}; training without validation (checkpoints: last only)");
                using var trainer = new MetaTrainer(cfg, bm.Model, bm.Tokenizer, cfg.OutputDir, cfg.ModelNameOrPath);
                s = trainer.Run(train, val, parse.GetValue(resume), parse.GetValue(stopAfter), cancel: cancel.Token);
            }
            if (s.Interrupted)
            {
                Console.Error.WriteLine($"train: interrupted; step {s.Steps} is checkpointed in {s.RunDir} (continue with --resume)");
                return signal;
            }
            bool curve = PerkSharp.Evaluation.LearningCurve.WriteInto(s.RunDir) != null;
            Console.WriteLine($"train: {s.Steps} steps in {Progress.Fmt(s.Seconds)}" +
                              (s.BestValLoss is double b ? $", best val_loss {b:0.0000}" : "") +
                              (s.LastValEm is double em ? $", last val EM {em:0.000}" : "") +
                              $", skipped {s.SkippedSteps}{(s.StoppedEarly ? ", stopped early" : "")}; run folder {s.RunDir}" +
                              (curve ? " (learning_curve.png, learning_curve.csv)" : ""));
            return 0;
        });
        return cmd;
    }
}
