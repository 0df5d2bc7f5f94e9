using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Benchmarks;

/// <summary>
/// Leak check: resident memory over 1,500 meta-steps of the tiny model (truncated, N = 4, T = 2; 4 segments of 32
/// tokens). Nothing is trimmed during the run, so the figure includes allocator caching as a user would see it.
/// Two windows: rss_growth_50_500 (warm-up: allocator pools and caches still filling) and rss_growth_750_1500 (steady
/// state, where any growth is a leak), each (RSS after the later step − RSS after the earlier) / RSS after the earlier.
/// A run too short for a window (--quick, --leak-steps) leaves that key unmeasured.
/// </summary>
public sealed class LeakBench
{
    /// <summary>(summary key, from step, to step) of the RSS growth windows.</summary>
    public static readonly (string Key, int From, int To)[] Windows =
    {
        ("rss_growth_50_500", 50, 500),
        ("rss_growth_750_1500", 750, 1500),
    };

    readonly BenchOptions _o;
    readonly TextWriter _log;

    public LeakBench(BenchOptions options, TextWriter log) { _o = options; _log = log; }

    /// <summary>(RSS at <paramref name="to"/> − RSS at <paramref name="from"/>) / RSS at from; null unless both were read.</summary>
    public static double? Growth(IReadOnlyDictionary<int, double> rssByStep, int from, int to) =>
        rssByStep.TryGetValue(from, out double a) && rssByStep.TryGetValue(to, out double b) && a > 0 ? (b - a) / a : null;

    public void Run(BenchSummary summary, Action<BenchTable> addTable, Action<string, string> addPlot)
    {
        var cfg = BenchWorkloads.TinyConfig();
        using var model = ModelFactory.Create(cfg, ScalarType.Float32, seed: 1);
        var settings = BenchWorkloads.Settings(rank: 8, InnerLoopMode.Truncated, unrollStart: 2);
        using var meta = new MetaParameters(model, settings, ScalarType.Float32, seed: 2);
        int steps = _o.LeakSteps;
        using var learner = new MetaLearner(model, meta, totalSteps: steps, warmupSteps: 0);
        var rng = new Random(5);
        int pad = cfg.EosTokenId ?? 0;

        var table = new BenchTable("leak", "step", "rss_mb", "managed_mb");
        var rssByStep = new Dictionary<int, double>();
        PeakMemory.BeginPhase();
        using var progress = new Runtime.Progress("bench leak", steps);
        for (int step = 1; step <= steps; step++)
        {
            // A fresh example every step, as in training: new token tensors each time.
            var seqs = BenchWorkloads.Context(cfg, 4 * 32, 32, rng);
            var context = PerkBatcher.MicroBatches(seqs, 1, packed: false, padId: pad);
            using (var question = PerkBatcher.Separate(new[] { BenchWorkloads.Question(cfg, 12, 4, rng) }, pad))
                learner.Step(context, question);
            foreach (var mb in context) mb.Dispose();
            if (step == 1 || step % 10 == 0)
            {
                double rss = PeakMemory.Rss / 1048576.0;
                table.Add(step, rss, GC.GetTotalMemory(false) / 1048576.0);
                rssByStep[step] = rss;
            }
            progress.Report(step);
        }
        addTable(table);
        foreach (var (key, from, to) in Windows)
        {
            summary[key] = Growth(rssByStep, from, to);
            if (summary[key] is null) summary.Notes.Add($"leak check ran {steps} steps, not {to}: {key} left unmeasured");
            else _log.WriteLine($"bench: leak: RSS {rssByStep[from]:0.0} MB at step {from}, {rssByStep[to]:0.0} MB at step {to}");
        }
        BenchPlots.Lines(Path.Combine(_o.OutDir, "leak.png"), "Resident memory over meta-steps (tiny model)", "meta-step", "RSS MB",
            new[] { new PlotSeries("RSS", table.Rows.Select(r => table.Num(r, "step")).ToArray(), table.Rows.Select(r => table.Num(r, "rss_mb")).ToArray()) });
        addPlot("leak.png", $"RSS over {steps} meta-steps");
    }
}
