using System.CommandLine;
using System.Diagnostics;
using PerkSharp.Data;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk data generate`: deterministic task files in the official layout under --out.</summary>
internal static class DataGenerate
{
    static readonly Option<string> Task = new("--task") { Description = string.Join(" | ", DatasetRegistry.Families.Where(f => f.Generated).Select(f => f.Name)), Required = true };
    static readonly Option<string> Subset = new("--subset") { Description = "BabiLong task qa1..qa5", DefaultValueFactory = _ => "qa1" };
    static readonly Option<string?> Length = new("--length") { Description = "Length name 0k, 1k, 2k, 4k, 8k, 16k, 32k, 64k, 128k (GPT-2 token budget; default 8k, LongGorilla 4k)" };
    static readonly Option<string> Split = new("--split") { Description = "train | validation | test", DefaultValueFactory = _ => "test" };
    static readonly Option<int> Count = new("--count") { Description = "Number of examples (databases for student_records, queries for longgorilla)", DefaultValueFactory = _ => 100 };
    static readonly Option<ulong> Seed = new("--seed") { Description = "Master seed (per-sample streams derive from it)", DefaultValueFactory = _ => PerkRandom.DefaultSeed };
    static readonly Option<string> Out = new("--out") { Description = "Output data folder (official layout inside; an existing data file is replaced only with --force)", Required = true };
    static readonly Option<string> Placement = new("--placement") { Description = "BabiLong fact placement: shuffled | blocked", DefaultValueFactory = _ => "shuffled" };
    static readonly Option<int> SegmentTokens = new("--segment-tokens") { Description = "BabiLong segment size in GPT-2 tokens", DefaultValueFactory = _ => 256 };
    static readonly Option<string> BudgetRuleOpt = new("--budget-rule") { Description = "perk (N×1024 tokens) | babilong (N×1000−300)", DefaultValueFactory = _ => "perk" };
    static readonly Option<string?> Haystack = new("--haystack") { Description = "Folder of .txt files to use as haystack instead of the built-in Austen novels (train/validation/test subfolders are used per split when present)" };
    static readonly Option<string> Query = new("--query") { Description = "Student Records question file: recall | relation | aggregate | count | sort | all", DefaultValueFactory = _ => "all" };
    static readonly Option<bool> WithSupport = new("--with-support") { Description = "Student Records: add the rendered record lines as support to recall/relation questions (turns on the <support> target)" };
    static readonly Option<string> Hub = new("--hub") { Description = "LongGorilla hub: huggingface | tensorflowhub | torchhub", DefaultValueFactory = _ => "huggingface" };
    static readonly Option<string> Location = new("--location") { Description = "LongGorilla gold position: pre | mid | post | rnd | all", DefaultValueFactory = _ => "all" };
    static readonly Option<string?> Gorilla = new("--gorilla") { Description = "Folder with Gorilla's api/ and apibench/ files (default: ../shared/data/gorilla relative to the repository)" };
    static readonly Option<bool> KeepBabiSentences = new("--keep-babi-sentences") { Description = "Do not drop haystack sentences that name a bAbI agent together with a location" };
    static readonly Option<bool> Force = new("--force") { Description = "Replace data files that already exist under --out (other files there are never touched)" };

    public static Command Build()
    {
        var cmd = new Command("generate", "Generate task data deterministically (e.g. --task babilong --subset qa2 --length 8k --split test --count 100 --seed 7 --out DIR)");
        foreach (var o in new Option[] { Task, Subset, Length, Split, Count, Seed, Out, Placement, SegmentTokens, BudgetRuleOpt, Haystack, KeepBabiSentences, Query, WithSupport, Hub, Location, Gorilla, Force })
            cmd.Options.Add(o);
        cmd.SetHandler(Run, needsTorch: false);
        return cmd;
    }

    static int Run(ParseResult p)
    {
        var family = DatasetRegistry.Get(p.GetValue(Task)!, "--task", generatedOnly: true);
        string split = p.GetValue(Split)!;
        if (!DatasetRegistry.Splits.Contains(split)) throw new PerkException($"--split {split}: expected train, validation or test");
        int count = p.GetValue(Count);
        if (count < 1) throw new PerkException($"--count {count}: expected a positive number");
        // Every generated family of the registry has its generator here (the option parsing is the CLI's part).
        Func<ParseResult, string, int, int> generate = family switch
        {
            BabiLongFamily => Babilong,
            StudentRecordsFamily => StudentRecords,
            LongGorillaFamily => LongGorilla,
            _ => throw new InvalidOperationException($"no generator for dataset family {family.Name}"),
        };
        return generate(p, split, count);
    }

    static int Babilong(ParseResult p, string split, int count)
    {
        string subset = p.GetValue(Subset)!.Trim().ToLowerInvariant();
        var tasks = Enumerable.Range(1, BabiLongFamily.Tasks).Select(t => "qa" + t).ToList();
        if (!tasks.Contains(subset)) throw new PerkException($"--subset {subset}: expected {string.Join(", ", tasks)}");
        string length = LengthOf(p, "8k");
        var rule = Rule(p);
        var opts = new BabiLongOptions(subset[2] - '0', length, split, p.GetValue(Seed), p.GetValue(Placement)!, p.GetValue(SegmentTokens), rule,
            !p.GetValue(KeepBabiSentences));
        string path = DatasetRegistry.BabiLong.Files(p.GetValue(Out)!, opts.Subset, split)[0];
        OutputGuard.Files(new[] { path }, p.GetValue(Force));
        string? hayDir = p.GetValue(Haystack);
        var corpus = hayDir != null ? HaystackCorpus.FromDirectory(hayDir, split) : HaystackCorpus.Embedded(split);

        var clock = Stopwatch.StartNew();
        var lines = new List<string>(count);
        long segs = 0;
        using (var bar = new Progress($"{DatasetRegistry.BabiLong.Name}/{opts.Subset}/{split}", count))
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

    static string LengthOf(ParseResult p, string fallback)
    {
        string length = (p.GetValue(Length) ?? fallback).Trim().ToLowerInvariant();
        LengthBudget.Thousands(length);
        return length;
    }

    static BudgetRule Rule(ParseResult p) => p.GetValue(BudgetRuleOpt) switch
    {
        "perk" => BudgetRule.Perk,
        "babilong" => BudgetRule.Babilong,
        var r => throw new PerkException($"--budget-rule {r}: expected perk or babilong"),
    };

    static int StudentRecords(ParseResult p, string split, int count)
    {
        string length = LengthOf(p, "8k");
        string query = p.GetValue(Query)!.Trim().ToLowerInvariant();
        var queries = query == "all" ? StudentRecordsReader.Queries
            : StudentRecordsReader.Queries.Contains(query) ? new[] { query }
            : throw new PerkException($"--query {query}: expected recall, relation, aggregate, count, sort or all");
        var rule = Rule(p);
        ulong seed = p.GetValue(Seed);
        bool support = p.GetValue(WithSupport);
        var files = DatasetRegistry.StudentRecords.Files(p.GetValue(Out)!, queries.Length == 1 ? StudentRecordsFamily.SubsetOf(length, queries[0]) : length, split);
        string dir = Path.GetDirectoryName(files[0])!;
        OutputGuard.Files(files, p.GetValue(Force));
        var clock = Stopwatch.StartNew();
        var dbs = new List<StudentDatabase>(count);
        using (var bar = new Progress($"{DatasetRegistry.StudentRecords.Name}/{length}/{split}", count))
            for (int i = 0; i < count; i++)
            {
                dbs.Add(StudentRecordsGenerator.Generate(seed, length, split, i, support, rule));
                bar.Advance();
            }
        JsonlFile.Write(Path.Combine(dir, "context.jsonl"), dbs.Select(d => d.ContextLine()));
        foreach (var q in queries) JsonlFile.Write(Path.Combine(dir, q + ".jsonl"), dbs.Select(d => d.QuestionLine(q)));
        Console.WriteLine($"wrote {count} databases ({dbs.Average(d => d.Records.Count):0.0} records each, budget {LengthBudget.Tokens(length, rule)} tokens) " +
                          $"with {string.Join(", ", queries)} questions to {dir} in {clock.Elapsed.TotalSeconds:0.0}s");
        return 0;
    }

    static int LongGorilla(ParseResult p, string split, int count)
    {
        string length = LengthOf(p, "4k");
        string hub = p.GetValue(Hub)!.Trim().ToLowerInvariant();
        string location = p.GetValue(Location)!.Trim().ToLowerInvariant();
        var locations = location == "all" ? LongGorillaGenerator.Locations
            : LongGorillaGenerator.Locations.Contains(location) ? new[] { location }
            : throw new PerkException($"--location {location}: expected pre, mid, post, rnd or all");
        string PathOf(string loc) => DatasetRegistry.LongGorilla.Files(p.GetValue(Out)!, LongGorillaFamily.SubsetOf(hub, loc), split)[0];
        OutputGuard.Files(locations.Select(PathOf), p.GetValue(Force));
        var data = GorillaData.Load(p.GetValue(Gorilla) ?? DefaultGorillaDir(), hub);
        var queries = data.QueriesOf(split);
        if (count > queries.Count)
            throw new PerkException($"--count {count}: the {hub} {split} split has only {queries.Count} queries (split by api_call; {data.SkippedRows} unparsable rows skipped)");
        var rule = Rule(p);
        ulong seed = p.GetValue(Seed);
        var clock = Stopwatch.StartNew();
        foreach (var loc in locations)
        {
            var lines = new List<string>(count);
            double docs = 0;
            using (var bar = new Progress($"{DatasetRegistry.LongGorilla.Name}/{LongGorillaFamily.SubsetOf(hub, loc)}/{split}", count))
                for (int i = 0; i < count; i++)
                {
                    var g = LongGorillaGenerator.Generate(data, queries, loc, length, split, i, seed, rule);
                    lines.Add(OfficialWriter.LongGorillaLine(g.Example, g.Meta));
                    docs += g.Example.Context.Count;
                    bar.Advance();
                }
            string path = PathOf(loc);
            JsonlFile.Write(path, lines);
            Console.WriteLine($"wrote {count} examples to {path} ({docs / count:0.0} docs/example, budget {LengthBudget.Tokens(length, rule)} tokens)");
        }
        Console.WriteLine($"longgorilla {hub} {split}: {locations.Length} placement(s) x {count} queries in {clock.Elapsed.TotalSeconds:0.0}s");
        return 0;
    }

    // $PERK_SHARED_DATA/gorilla, else ../shared/data/gorilla relative to the repository root (found above the
    // executable), else relative to the working folder.
    static string DefaultGorillaDir()
    {
        if (Environment.GetEnvironmentVariable("PERK_SHARED_DATA") is { Length: > 0 } shared)
            return Path.Combine(shared, "gorilla");
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "PerkSharp.slnx")))
                return Path.Combine(d.FullName, "..", "shared", "data", "gorilla");
        return Path.Combine("..", "shared", "data", "gorilla");
    }
}
