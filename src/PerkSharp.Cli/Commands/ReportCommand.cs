using System.CommandLine;
using PerkSharp.Evaluation;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk report RUN...`: a markdown table and PNG plots from the outputs.jsonl files of evaluations, and the learning
/// curve of a training run folder (one holding metrics.jsonl).
/// </summary>
public sealed class ReportCommand : ICliCommand
{
    public Command Build()
    {
        var runs = new Argument<string[]>("RUN") { Description = "Evaluation folders (searched for outputs.jsonl), outputs.jsonl files, or one training run folder (metrics.jsonl: learning curve)", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string?>("--out") { Description = "Where report.md and the PNGs go (default: the first RUN folder)" };
        var force = new Option<bool>("--force") { Description = "Replace report.md and the PNGs if they already exist there" };
        var cmd = new Command("report", "Write report.md and plots (accuracy vs length, accuracy by gold position, latency vs length; learning curve of a run)") { runs, outDir, force };
        cmd.SetHandler(parse =>
        {
            var paths = parse.GetValue(runs)!;
            string dir = parse.GetValue(outDir) ?? (Directory.Exists(paths[0]) ? paths[0] : Path.GetDirectoryName(Path.GetFullPath(paths[0]))!);
            var (runDir, evalPaths) = ReportWriter.Sources(paths);
            IO.OutputGuard.Files(ReportWriter.FilesFor(evalPaths.Count > 0, runDir != null).Select(f => Path.Combine(dir, f)), parse.GetValue(force));
            var records = evalPaths.Count > 0 ? ReportWriter.Collect(evalPaths) : new List<EvalRecord>();
            string md = runDir != null ? ReportWriter.WriteWithLearningCurve(records, dir, runDir) : ReportWriter.Write(records, dir);
            Console.WriteLine(md);
            var wrote = new List<string>();
            if (evalPaths.Count > 0) wrote.Add($"3 PNG plots of {records.Count} outputs");
            if (runDir != null) wrote.Add("learning_curve.png and learning_curve.csv");
            Console.WriteLine($"report: {Path.Combine(dir, "report.md")}, {string.Join(", ", wrote)}");
            return 0;
        }, needsTorch: false);
        return cmd;
    }
}
