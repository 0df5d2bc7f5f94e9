using System.CommandLine;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk reproduce babilong`: the paper's length-extrapolation experiment, resumable phase by phase.</summary>
public sealed class ReproduceCommand : ICliCommand
{
    public Command Build()
    {
        var d = new ReproduceOptions();
        var root = new Option<string>("--out") { Description = "Run folder: new, empty, or an earlier `perk reproduce babilong` run, which is resumed", DefaultValueFactory = _ => d.Root };
        var tasks = new Option<string>("--tasks") { Description = "BabiLong tasks, comma-separated (one PERK and one FT-ICR model per task)", DefaultValueFactory = _ => string.Join(",", d.Tasks.Select(t => $"qa{t}")) };
        var lengths = new Option<string>("--lengths") { Description = "Test context lengths, comma-separated", DefaultValueFactory = _ => string.Join(",", d.Lengths) };
        var test = new Option<int>("--test-count") { Description = "Test examples per (task, length) cell", DefaultValueFactory = _ => d.TestCount };
        var trainCount = new Option<int>("--train-count") { Description = $"Training examples per task at {d.Recipe.TrainLength}", DefaultValueFactory = _ => d.Recipe.TrainCount };
        var lanes = new Option<int>("--lanes") { Description = "Tasks run side by side, one libtorch thread each (0 = one per core, at most 2; 1 = one after another on all threads)" };
        var model = new Option<string?>("--model") { Description = "A Hugging Face base model folder to use instead of the embedded tiny default (pretrained into --out/base)" };
        var babilong = new Command("babilong",
            "Length extrapolation on BabiLong: per task, meta-train PERK (facts-only 0k stage, then 1k) and fine-tune FT-ICR at 1k, choose " +
            "TTFT's rate on validation, evaluate PERK / FT-ICR / TTFT / BM25 top-1 at every test length, and write summary.json and report.md " +
            "(EM with 95% Wilson intervals, chance rows, plots, learning curves). Every phase is written atomically with a phase.json marker: " +
            "run the same command again after a kill and finished phases are reused.")
            { root, tasks, lengths, test, trainCount, lanes, model };
        babilong.SetHandler(parse =>
        {
            var o = d with
            {
                Root = parse.GetValue(root)!, Tasks = BabilongReproduction.ParseTasks(parse.GetValue(tasks)!),
                Lengths = BabilongReproduction.ParseLengths(parse.GetValue(lengths)!), TestCount = parse.GetValue(test),
                ModelDir = parse.GetValue(model), Lanes = parse.GetValue(lanes) >= 0 ? parse.GetValue(lanes)
                    : throw new PerkSharp.Runtime.PerkException($"--lanes {parse.GetValue(lanes)}: expected 0 (auto) or more"), Recipe = d.Recipe with { TrainCount = parse.GetValue(trainCount) },
            };
            BabilongReproduction.Validate(o);                   // before libtorch work or any file is written
            var summary = BabilongReproduction.Run(o, Console.Error);
            Console.WriteLine();
            Console.WriteLine(Quickstart.Table(summary));
            Console.WriteLine($"reproduce babilong: {(double)summary["wall_seconds"]!:0} s wall; report {Path.Combine(o.Root, "report.md")}, " +
                              $"summary {Path.Combine(o.Root, "summary.json")}, outputs under {Path.Combine(o.Root, "eval")}");
            return 0;
        });
        return new Command("reproduce", "Reproduce an experiment of the PERK paper end to end (resumable)") { babilong };
    }
}
