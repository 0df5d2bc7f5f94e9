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
            var sets = DatasetRegistry.Discover(d);
            if (sets.Count == 0) throw new PerkException($"{d}: no data files found (expected {string.Join(" or ", DatasetRegistry.Families.Where(f => f.Generated).Select(f => f.Layout))}, or .jsonl files)");
            int total = 0;
            foreach (var s in sets)
            {
                var examples = s.Load();
                total += examples.Count;
                Console.Write(DatasetStats.Compute(s.Name, examples).Format());
            }
            Console.WriteLine($"{sets.Count} file set(s), {total} examples");
            return 0;
        }, needsTorch: false);
        return cmd;
    }
}
