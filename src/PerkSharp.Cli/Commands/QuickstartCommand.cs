using System.CommandLine;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk quickstart`: the embedded default end to end (data, tiny base model, PERK, baselines, table).</summary>
public sealed class QuickstartCommand : ICliCommand
{
    public Command Build()
    {
        var d = new QuickstartOptions();
        var root = new Option<string>("--out") { Description = "Run folder", DefaultValueFactory = _ => d.Root };
        var qa2 = new Option<bool>("--qa2") { Description = "Also run BabiLong qa2 (two supporting facts; roughly doubles the time)" };
        var test = new Option<int>("--test-count") { Description = "Test examples per length", DefaultValueFactory = _ => d.TestCount };
        var trainCount = new Option<int>("--train-count") { Description = "Training examples", DefaultValueFactory = _ => d.TrainCount };
        var lanes = new Option<int>("--lanes") { Description = "Jobs run side by side, one libtorch thread each (0 = one per core, at most 2; 1 = sequential, all threads)" };
        var baseDir = new Option<string?>("--base") { Description = "Base model folder to use (default: the shipped base, models/tiny-qa1)" };
        var pretrain = new Option<bool>("--pretrain") { Description = "Pretrain the base model with the shipped recipe instead of using a ready one (about a minute)" };
        var overrides = new Argument<string[]>("key=value") { Description = "Overrides of the PERK config (configs/tiny_qa1.yaml), e.g. dyna_lr=false", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("quickstart", "Generate BabiLong qa1, pretrain a tiny LM (reused when present), meta-train PERK, train FT-ICR, " +
                                            "evaluate PERK / FT-ICR / TTFT / BM25 at 1x, 2x, 4x the training length, print the table and write summary.json")
            { root, qa2, test, trainCount, lanes, baseDir, pretrain, overrides };
        cmd.SetHandler(parse =>
        {
            if (parse.GetValue(lanes) < 0) throw new PerkSharp.Runtime.PerkException($"--lanes {parse.GetValue(lanes)}: expected 0 (auto) or more");
            if (parse.GetValue(pretrain) && parse.GetValue(baseDir) != null) throw new PerkSharp.Runtime.PerkException("--base and --pretrain exclude each other");
            bool qa2Run = parse.GetValue(qa2);
            // The shipped base was pretrained on qa1 text; --qa2 needs qa2 in the corpus, so it pretrains.
            string? ready = parse.GetValue(pretrain) ? null : parse.GetValue(baseDir) ?? (qa2Run ? null : BaseModel.Shipped());
            var o = d with
            {
                BaseDir = ready,
                Root = parse.GetValue(root)!, Tasks = parse.GetValue(qa2) ? new[] { 1, 2 } : new[] { 1 },
                TestCount = parse.GetValue(test), TrainCount = parse.GetValue(trainCount), Lanes = parse.GetValue(lanes), PerkOverrides = parse.GetValue(overrides) ?? Array.Empty<string>(),
            };
            var summary = Quickstart.Run(o, Console.Error);
            Console.WriteLine();
            Console.WriteLine(Quickstart.Table(summary));
            Console.WriteLine($"quickstart: {(double)summary["wall_seconds"]!:0} s wall; summary {Path.Combine(o.Root, "summary.json")}, " +
                              $"outputs under {Path.Combine(o.Root, "eval")}, plots in {Path.Combine(o.Root, "report")}");
            return 0;
        });
        return cmd;
    }
}
