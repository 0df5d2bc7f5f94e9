using System.CommandLine;
using System.Diagnostics;
using PerkSharp.Data;
using PerkSharp.Runtime;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk data generate`: deterministic task files in the official layout under --out.</summary>
internal static class DataGenerate
{
    static readonly Option<string> Task = new("--task") { Description = "babilong | student_records | longgorilla", Required = true };
    static readonly Option<string> Subset = new("--subset") { Description = "BabiLong task qa1..qa5", DefaultValueFactory = _ => "qa1" };
    static readonly Option<string> Length = new("--length") { Description = "Length name 0k, 1k, 2k, 4k, 8k, 16k, 32k, 64k, 128k (GPT-2 token budget)", DefaultValueFactory = _ => "8k" };
    static readonly Option<string> Split = new("--split") { Description = "train | validation | test", DefaultValueFactory = _ => "test" };
    static readonly Option<int> Count = new("--count") { Description = "Number of examples (databases for student_records, queries for longgorilla)", DefaultValueFactory = _ => 100 };
    static readonly Option<ulong> Seed = new("--seed") { Description = "Master seed (per-sample streams derive from it)", DefaultValueFactory = _ => PerkRandom.DefaultSeed };
    static readonly Option<string> Out = new("--out") { Description = "Output data folder (official layout inside)", Required = true };
    static readonly Option<string> Placement = new("--placement") { Description = "BabiLong fact placement: shuffled | blocked", DefaultValueFactory = _ => "shuffled" };
    static readonly Option<int> SegmentTokens = new("--segment-tokens") { Description = "BabiLong segment size in GPT-2 tokens", DefaultValueFactory = _ => 256 };
    static readonly Option<string> BudgetRuleOpt = new("--budget-rule") { Description = "perk (N×1024 tokens) | babilong (N×1000−300)", DefaultValueFactory = _ => "perk" };
    static readonly Option<string?> Haystack = new("--haystack") { Description = "Folder of .txt files to use as haystack instead of the built-in Austen novels (train/validation/test subfolders are used per split when present)" };
    static readonly Option<bool> KeepBabiSentences = new("--keep-babi-sentences") { Description = "Do not drop haystack sentences that name a bAbI agent together with a location" };

    public static Command Build()
    {
        var cmd = new Command("generate", "Generate task data deterministically (e.g. --task babilong --subset qa2 --length 8k --split test --count 100 --seed 7 --out DIR)");
        foreach (var o in new Option[] { Task, Subset, Length, Split, Count, Seed, Out, Placement, SegmentTokens, BudgetRuleOpt, Haystack, KeepBabiSentences })
            cmd.Options.Add(o);
        cmd.SetHandler(Run, needsTorch: false);
        return cmd;
    }

    static int Run(ParseResult p)
    {
        string task = p.GetValue(Task)!.Trim().ToLowerInvariant();
        string split = p.GetValue(Split)!;
        if (split is not ("train" or "validation" or "test")) throw new PerkException($"--split {split}: expected train, validation or test");
        int count = p.GetValue(Count);
        if (count < 1) throw new PerkException($"--count {count}: expected a positive number");
        return task switch
        {
            "babilong" => Babilong(p, split, count),
            _ => throw new PerkException($"--task {task}: expected babilong, student_records or longgorilla"),
        };
    }

    static int Babilong(ParseResult p, string split, int count)
    {
        string subset = p.GetValue(Subset)!.Trim().ToLowerInvariant();
        if (!(subset.Length == 3 && subset.StartsWith("qa") && subset[2] is >= '1' and <= '5'))
            throw new PerkException($"--subset {subset}: expected qa1, qa2, qa3, qa4 or qa5");
        string length = p.GetValue(Length)!.Trim().ToLowerInvariant();
        LengthBudget.Thousands(length);
        var rule = p.GetValue(BudgetRuleOpt) switch
        {
            "perk" => BudgetRule.Perk,
            "babilong" => BudgetRule.Babilong,
            var r => throw new PerkException($"--budget-rule {r}: expected perk or babilong"),
        };
        var opts = new BabiLongOptions(subset[2] - '0', length, split, p.GetValue(Seed), p.GetValue(Placement)!, p.GetValue(SegmentTokens), rule,
            !p.GetValue(KeepBabiSentences));
        string? hayDir = p.GetValue(Haystack);
        var corpus = hayDir != null ? HaystackCorpus.FromDirectory(hayDir, split) : HaystackCorpus.Embedded(split);
        string path = OfficialReader.PathOf(p.GetValue(Out)!, "babilong", opts.Subset, split);

        var clock = Stopwatch.StartNew();
        var lines = new List<string>(count);
        long segs = 0;
        using (var bar = new Progress($"babilong/{opts.Subset}/{split}", count))
        {
            for (int i = 0; i < count; i++)
            {
                var g = BabiLongGenerator.Generate(opts, corpus, i);
                lines.Add(OfficialWriter.BabilongLine(g.Example, g.Meta));
                segs += g.Example.Context.Count;
                bar.Advance();
            }
        }
        JsonlFile.Write(path, lines);
        Console.WriteLine($"wrote {count} examples to {path} ({segs / (double)count:0.0} segments/example, budget {LengthBudget.Tokens(length, rule)} tokens, haystack {corpus.Source}) in {clock.Elapsed.TotalSeconds:0.0}s");
        return 0;
    }
}
