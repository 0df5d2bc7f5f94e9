using System.CommandLine;
using PerkSharp.Benchmarks;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk bench [--quick] [--out DIR]`: GEMM peak, meta-step and test-time speed/memory against the analytic FLOP
/// model, leak check; writes CSV, PNG, summary.md and summary.json.
/// </summary>
public sealed class BenchCommand : ICliCommand
{
    /// <summary>What a bench folder holds; `perk bench` overwrites only such a folder, and only with --force.</summary>
    static readonly OutputKind BenchFolder = new("benchmark", new[] { "summary.json", "summary.md", "*.csv", "*.png" });

    public Command Build()
    {
        var quick = new Option<bool>("--quick") { Description = "Short run (~3 min): smaller contexts and fewer steps; every key but rss_growth_750_1500 still measured" };
        var outDir = new Option<string>("--out") { Description = "Output folder, new or empty (an earlier benchmark is overwritten only with --force)", DefaultValueFactory = _ => "bench-out" };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it holds an earlier benchmark (any other folder is never touched)" };
        var only = new Option<string[]>("--only")
        {
            Description = "Run only these phases (gemm, leak, meta, tiny-batch, test-time); the others are reported as not measured",
            AllowMultipleArgumentsPerToken = true,
        };
        var budget = new Option<double>("--memory-budget-gb")
        {
            Description = "Skip configurations whose predicted peak memory exceeds this (GB)",
            DefaultValueFactory = _ => 6.0,
        };
        var leakSteps = new Option<int?>("--leak-steps")
        {
            Description = "Meta-steps of the leak check (default 1500, --quick 500; rss_growth_50_500 needs 500, rss_growth_750_1500 needs 1500)",
        };
        var cmd = new Command("bench", "Measure speed, memory and scaling against this machine's GEMM peak and the FLOP model")
        {
            quick, outDir, only, budget, leakSteps, force,
        };
        cmd.SetHandler(parse =>
        {
            var phases = parse.GetValue(only) ?? Array.Empty<string>();
            foreach (var p in phases)
                if (!BenchOptions.AllPhases.Contains(p))
                    throw new PerkException($"--only: unknown phase \"{p}\" (expected one of {string.Join(", ", BenchOptions.AllPhases)})");
            double gb = parse.GetValue(budget);
            if (!(gb > 0)) throw new PerkException($"--memory-budget-gb must be > 0 (got {gb})");
            int? steps = parse.GetValue(leakSteps);
            if (steps < 50) throw new PerkException($"--leak-steps must be >= 50 (got {steps})");
            OutputGuard.Folder(parse.GetValue(outDir)!, BenchFolder, parse.GetValue(force));   // before minutes of measuring
            var options = new BenchOptions
            {
                Quick = parse.GetValue(quick),
                OutDir = parse.GetValue(outDir)!,
                Phases = phases.Length == 0 ? BenchOptions.AllPhases : phases,
                MemoryBudgetBytes = (long)(gb * (1L << 30)),
                LeakStepsOverride = steps,
            };
            var summary = new BenchRunner(options, Console.Out).Run();
            Console.WriteLine(summary.GoalTable());
            Console.WriteLine($"bench: wrote {Path.GetFullPath(options.OutDir)} (summary.md, summary.json, *.csv, *.png)");
            return 0;
        });
        return cmd;
    }
}
