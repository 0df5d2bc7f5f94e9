using System.CommandLine;
using PerkSharp.Data;
using PerkSharp.Runtime;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk data generate|stats`: build the PERK task files offline and inspect data folders.</summary>
public sealed class DataCommand : ICliCommand
{
    public Command Build()
    {
        var cmd = new Command("data", "Generate PERK task data (BabiLong, Student Records, LongGorilla) and show statistics");
        cmd.Subcommands.Add(DataGenerate.Build());
        cmd.Subcommands.Add(BuildStats());
        return cmd;
    }

    static Command BuildStats()
    {
        var dir = new Argument<string>("dir") { Description = "A data folder in the official layout (or one .jsonl file)" };
        var cmd = new Command("stats", "Counts, context-length distribution (GPT-2 tokens), segments per example, answer distribution");
        cmd.Arguments.Add(dir);
        cmd.SetHandler(parse =>
        {
            string d = parse.GetValue(dir)!;
            var sets = DataFolder.Discover(d);
            if (sets.Count == 0) throw new PerkException($"{d}: no data files found (expected {{dataset}}/{{subset}}/{{split}}.jsonl or student_records/.../context.jsonl)");
            int total = 0;
            foreach (var (name, load) in sets)
            {
                var examples = load();
                total += examples.Count;
                Console.Write(DatasetStats.Compute(name, examples).Format());
            }
            Console.WriteLine($"{sets.Count} file set(s), {total} examples");
            return 0;
        }, needsTorch: false);
        return cmd;
    }
}
