using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Benchmarks;

/// <summary>
/// Leak check: resident memory over 500 meta-steps of the tiny model (truncated, N = 4, T = 2; 4 segments of 32
/// tokens). Nothing is trimmed during the run, so the figure includes allocator caching as a user would see it.
/// rss_growth_50_500 = (RSS after step 500 − RSS after step 50) / RSS after step 50.
/// </summary>
public sealed class LeakBench
{
    readonly BenchOptions _o;
    readonly TextWriter _log;

    public LeakBench(BenchOptions options, TextWriter log) { _o = options; _log = log; }

    public void Run(BenchSummary summary, Action<BenchTable> addTable, Action<string, string> addPlot)
    {
        var cfg = BenchWorkloads.TinyConfig();
        using var model = ModelFactory.Create(cfg, ScalarType.Float32, seed: 1);
        var settings = BenchWorkloads.Settings(rank: 8, InnerLoopMode.Truncated, unrollStart: 2);
        using var meta = new MetaParameters(model, settings, ScalarType.Float32, seed: 2);
        using var learner = new MetaLearner(model, meta, totalSteps: _o.LeakSteps, warmupSteps: 0);
        var rng = new Random(5);
        int pad = cfg.EosTokenId ?? 0;

        var table = new BenchTable("leak", "step", "rss_mb", "managed_mb");
        PeakMemory.BeginPhase();
        double rss50 = double.NaN, rssEnd = double.NaN;
        using var progress = new Runtime.Progress("bench leak", _o.LeakSteps);
        for (int step = 1; step <= _o.LeakSteps; step++)
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
                if (step == 50) rss50 = rss;
                if (step == _o.LeakSteps) rssEnd = rss;
            }
            progress.Report(step);
        }
        addTable(table);
        if (_o.LeakSteps == 500) summary["rss_growth_50_500"] = (rssEnd - rss50) / rss50;
        else summary.Notes.Add($"leak check ran {_o.LeakSteps} steps, not 500: rss_growth_50_500 left unmeasured");
        _log.WriteLine($"bench: leak: RSS {rss50:0.0} MB at step 50, {rssEnd:0.0} MB at step {_o.LeakSteps}");
        BenchPlots.Lines(Path.Combine(_o.OutDir, "leak.png"), "Resident memory over meta-steps (tiny model)", "meta-step", "RSS MB",
            new[] { new PlotSeries("RSS", table.Rows.Select(r => table.Num(r, "step")).ToArray(), table.Rows.Select(r => table.Num(r, "rss_mb")).ToArray()) });
        addPlot("leak.png", "RSS over 500 meta-steps");
    }
}
