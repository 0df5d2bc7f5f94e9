using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Benchmarks;

/// <summary>
/// Meta-training step cost: wall time, achieved GFLOP/s (FLOP model / time), MFU and peak activation memory for
/// first-order, truncated (T = 1, 2) and full second-order unrolling (N = 4) over growing contexts, on the tiny model
/// and on GPT-2-small-shaped models. A configuration whose peak, extrapolated linearly in the context from the same
/// mode's last measurement, would exceed the memory budget is skipped and reported as such.
/// </summary>
public sealed class MetaStepBench
{
    readonly BenchOptions _o;
    readonly TextWriter _log;
    readonly MachinePeak _peak;

    public MetaStepBench(BenchOptions options, TextWriter log, MachinePeak peak) { _o = options; _log = log; _peak = peak; }

    /// <summary>(label, mode, unroll_start, T) in increasing memory order.</summary>
    public static readonly (string Label, InnerLoopMode Mode, int UnrollStart, int T)[] Modes =
    {
        ("first-order", InnerLoopMode.FirstOrder, 0, 0),
        ("truncated-T1", InnerLoopMode.Truncated, 3, 1),
        ("truncated-T2", InnerLoopMode.Truncated, 2, 2),
        ("full", InnerLoopMode.Full, 0, 4),
    };

    public void Run(BenchSummary summary, Action<BenchTable> addTable, Action<string, string> addPlot)
    {
        var table = new BenchTable("meta_step", "model", "layers", "context_tokens", "segments", "mode", "second_order_steps",
            "status", "steps_timed", "seconds", "cpu_seconds", "model_gflop", "achieved_gflops", "mfu", "mfu_cpu", "peak_mb", "baseline_mb");
        RunShape("tiny", BenchWorkloads.TinyConfig(), _o.TinyMetaContexts, table);
        RunShape("gpt2-small", BenchWorkloads.Gpt2SmallConfig(_o.MetaLayers, 1024), _o.MetaContexts, table);
        addTable(table);

        // Keys on GPT-2-small shapes: MFU of the official setting (truncated T = 2) at the first context, and the
        // peak ratio T = 2 / full at the largest context where both ran.
        var g = table.Rows.Where(r => (string)table.Get(r, "model")! == "gpt2-small" && (string)table.Get(r, "status")! == "ok").ToList();
        var t2 = g.Where(r => (string)table.Get(r, "mode")! == "truncated-T2").OrderBy(r => table.Num(r, "context_tokens")).FirstOrDefault();
        if (t2 != null)
        {
            summary["meta_step_mfu"] = table.Num(t2, "mfu");
            summary.Extra["meta_step_mfu_cpu"] = Math.Round(table.Num(t2, "mfu_cpu"), 4);
            summary.Notes.Add($"meta_step_mfu: GPT-2-small shapes ({_o.MetaLayers} layers), truncated T=2, N=4, {table.Num(t2, "context_tokens")} context tokens");
        }
        foreach (var ctx in g.Select(r => table.Num(r, "context_tokens")).Distinct().OrderByDescending(c => c))
        {
            var full = g.FirstOrDefault(r => table.Num(r, "context_tokens") == ctx && (string)table.Get(r, "mode")! == "full");
            var tr = g.FirstOrDefault(r => table.Num(r, "context_tokens") == ctx && (string)table.Get(r, "mode")! == "truncated-T2");
            if (full == null || tr == null) continue;
            summary["truncated_full_peak_ratio"] = table.Num(tr, "peak_mb") / table.Num(full, "peak_mb");
            summary.Notes.Add($"truncated_full_peak_ratio measured at {ctx} context tokens (GPT-2-small shapes, {_o.MetaLayers} layers)");
            break;
        }

        foreach (var (metric, file, yLabel) in new[] { ("seconds", "meta_step_time.png", "seconds per meta-step"), ("peak_mb", "meta_step_memory.png", "peak activation MB") })
        {
            var series = Modes.Select(m => new PlotSeries($"gpt2-small {m.Label}",
                g.Where(r => (string)table.Get(r, "mode")! == m.Label).Select(r => table.Num(r, "context_tokens")).ToArray(),
                g.Where(r => (string)table.Get(r, "mode")! == m.Label).Select(r => table.Num(r, metric)).ToArray())).ToList();
            BenchPlots.Lines(Path.Combine(_o.OutDir, file), $"Meta-step ({_o.MetaLayers}-layer GPT-2-small shapes, N = 4)",
                "context tokens", yLabel, series, log2X: true);
            addPlot(file, $"meta-step {yLabel} by inner-loop mode");
        }
    }

    void RunShape(string name, ModelConfig cfg, int[] contexts, BenchTable table)
    {
        using var model = ModelFactory.Create(cfg, ScalarType.Float32, seed: 1);
        var flops = new FlopModel(TransformerShape.FromConfig(cfg, name), _o.LoraRank);
        var lastPeak = new Dictionary<string, (int Ctx, double Mb)>();
        var rng = new Random(7);
        foreach (int ctx in contexts)
        {
            foreach (var m in Modes)
            {
                int segments = Math.Max(1, ctx / _o.SegmentLength);
                double gflop = flops.MetaStep(segments, _o.SegmentLength, _o.PromptTokens + _o.AnswerTokens, _o.InnerSteps, m.T).Total / 1e9;
                if (lastPeak.TryGetValue(m.Label, out var lp) && lp.Mb * ctx / lp.Ctx * (1 << 20) > _o.MemoryBudgetBytes)
                {
                    table.Add(name, cfg.NumHiddenLayers, ctx, segments, m.Label, m.T, $"skipped: predicted peak {lp.Mb * ctx / lp.Ctx:0} MB > budget",
                        0, double.NaN, double.NaN, gflop, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
                    _log.WriteLine($"bench: meta {name} ctx {ctx} {m.Label}: skipped (predicted {lp.Mb * ctx / lp.Ctx:0} MB)");
                    continue;
                }
                var r = Measure(model, cfg, ctx, m.Mode, m.UnrollStart, rng, gflop, _o.MetaRepeats, Math.Max(2, _o.MetaRepeats));
                lastPeak[m.Label] = (ctx, r.PeakMb);
                double achieved = gflop / r.Seconds, mfuCpu = gflop / r.Cpu / _peak.GflopsPerCpuSecond;
                table.Add(name, cfg.NumHiddenLayers, ctx, segments, m.Label, m.T, "ok", r.Steps, r.Seconds, r.Cpu, gflop, achieved,
                    achieved / _peak.Gflops, mfuCpu, r.PeakMb, r.BaselineMb);
                _log.WriteLine($"bench: meta {name} ctx {ctx} {m.Label}: {r.Seconds:0.000} s/step, {achieved:0.0} GFLOP/s " +
                               $"(MFU {achieved / _peak.Gflops:0.00}, per CPU-second {mfuCpu:0.00}), peak {r.PeakMb:0} MB");
            }
        }
    }

    /// <summary>
    /// A short step (under ~3 s): one warm-up step, then <paramref name="repeats"/> timed ones; a long step:
    /// <paramref name="longSteps"/> timed steps, the first one included. Median seconds per step. Meta-parameters are
    /// float32 whatever the model's dtype, so a bfloat16 <paramref name="model"/> measures bf16-mixed.
    /// </summary>
    internal (double Seconds, double Cpu, int Steps, double PeakMb, double BaselineMb) Measure(CausalLM model, ModelConfig cfg, int ctx,
        InnerLoopMode mode, int unrollStart, Random rng, double gflop, int repeats, int longSteps)
    {
        var settings = BenchWorkloads.Settings(_o.LoraRank, mode, unrollStart, _o.InnerSteps);
        using var meta = new MetaParameters(model, settings, ScalarType.Float32, seed: 3);
        using var learner = new MetaLearner(model, meta, totalSteps: 1000, warmupSteps: 0);
        var seqs = BenchWorkloads.Context(cfg, ctx, _o.SegmentLength, rng);
        var context = PerkBatcher.MicroBatches(seqs, 1, packed: false, padId: cfg.EosTokenId ?? 0);
        using var question = PerkBatcher.Separate(new[] { BenchWorkloads.Question(cfg, _o.PromptTokens, _o.AnswerTokens, rng) }, cfg.EosTokenId ?? 0);
        try
        {
            long baseline = PeakMemory.BeginPhase();
            var times = new List<(double Wall, double Cpu)>();
            var first = BenchWorkloads.Clock(() => learner.Step(context, question));
            // Short steps: the first one (allocator warm-up, kernel selection) is not timed; long ones: it is.
            bool warm = first.Wall < 3.0;
            repeats = warm ? Math.Max(1, repeats) : Math.Max(0, longSteps - 1);
            if (!warm) times.Add(first);
            if (gflop < 5) repeats = Math.Max(repeats, 5);        // tiny steps: more repeats for a stable median
            for (int i = 0; i < repeats; i++) times.Add(BenchWorkloads.Clock(() => learner.Step(context, question)));
            double peak = PeakMemory.PhasePeak - baseline;
            return (BenchWorkloads.Median(times.Select(t => t.Wall).ToList()), BenchWorkloads.Median(times.Select(t => t.Cpu).ToList()),
                times.Count, peak / 1048576.0, baseline / 1048576.0);
        }
        finally
        {
            foreach (var mb in context) mb.Dispose();
        }
    }
}
