using System.CommandLine;
using PerkSharp.Evaluation;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk report RUN...`: a markdown table and PNG plots from the outputs.jsonl files of evaluations.</summary>
public sealed class ReportCommand : ICliCommand
{
    public Command Build()
    {
        var runs = new Argument<string[]>("RUN") { Description = "Evaluation folders (searched for outputs.jsonl) or outputs.jsonl files", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string?>("--out") { Description = "Where report.md and the PNGs go (default: the first RUN folder)" };
        var force = new Option<bool>("--force") { Description = "Replace report.md and the PNGs if they already exist there" };
        var cmd = new Command("report", "Write report.md and plots (accuracy vs length, accuracy by gold position, latency vs length)") { runs, outDir, force };
        cmd.SetHandler(parse =>
        {
            var paths = parse.GetValue(runs)!;
            string dir = parse.GetValue(outDir) ?? (Directory.Exists(paths[0]) ? paths[0] : Path.GetDirectoryName(Path.GetFullPath(paths[0]))!);
            IO.OutputGuard.Files(ReportWriter.Files.Select(f => Path.Combine(dir, f)), parse.GetValue(force));
            var records = ReportWriter.Collect(paths);
            string md = ReportWriter.Write(records, dir);
            Console.WriteLine(md);
            Console.WriteLine($"report: {records.Count} outputs -> {Path.Combine(dir, "report.md")} and 3 PNG plots");
            return 0;
        }, needsTorch: false);
        return cmd;
    }
}
