using System.Diagnostics;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace PerkSharp.Benchmarks;

/// <summary>
/// Runs the phases of `perk bench` in one process (each phase's peak memory via <see cref="PeakMemory.BeginPhase"/>)
/// and writes CSV, PNG, summary.md and summary.json. A phase that fails is reported (its keys stay null) and the
/// others still run, so one regression never hides the rest of the picture.
/// </summary>
public sealed class BenchRunner
{
    readonly BenchOptions _o;
    readonly TextWriter _log;
    readonly BenchSummary _summary = new();
    readonly List<BenchTable> _tables = new();
    readonly List<(string File, string Caption)> _plots = new();
    readonly string _loadStart = LoadAverage();

    public BenchRunner(BenchOptions options, TextWriter log) { _o = options; _log = log; }

    public BenchSummary Run()
    {
        Directory.CreateDirectory(_o.OutDir);
        var clock = Stopwatch.StartNew();
        _log.WriteLine($"bench: {(_o.Quick ? "quick" : "full")} run, {get_num_threads()} threads, load {_loadStart}");

        Phase("gemm", () => { Peak = RunGemm(); return 0; });
        _summary["gemm_gflops"] = Peak?.Gflops;
        if (Peak is null)
        {
            // Without a GEMM peak there is no MFU: measure it quickly even when only other phases were asked for.
            var quick = GemmPeak.Measure(ScalarType.Float32, new[] { 512, 1024 }, 0.5);
            Peak = new MachinePeak(GemmPeak.Best(quick, "float32"), GemmPeak.BestPerCpuSecond(quick, "float32"));
        }
        _summary.Extra["gemm_gflops_per_cpu_second"] = Math.Round(Peak.GflopsPerCpuSecond, 2);

        Phase("leak", () => { new LeakBench(_o, _log).Run(_summary, Add, Plot); return 0; });
        Phase("meta", () => { new MetaStepBench(_o, _log, Peak).Run(_summary, Add, Plot); return 0; });
        Phase("precision", () => { new PrecisionBench(_o, _log, Peak).Run(_summary, Add); return 0; });
        Phase("tiny-batch", () => { new TinyBatchBench(_o, _log, Peak).Run(_summary, Add); return 0; });
        Phase("test-time", () => { new TestTimeBench(_o, _log, Peak).Run(_summary, Add, Plot); return 0; });

        _summary.Extra["mode"] = _o.Quick ? "quick" : "full";
        _summary.Extra["threads"] = get_num_threads();
        _summary.Extra["load_average_start"] = _loadStart;
        _summary.Extra["load_average_end"] = LoadAverage();
        _summary.Extra["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        WriteOutputs(clock.Elapsed);
        return _summary;
    }

    /// <summary>GEMM peak of the dtype every other phase runs in (float32).</summary>
    public MachinePeak? Peak { get; private set; }

    double? Phase(string name, Func<double> body)
    {
        if (!_o.Runs(name)) { _summary.Notes.Add($"phase {name} not run (--only)"); return null; }
        var sw = Stopwatch.StartNew();
        try
        {
            double r = body();
            _log.WriteLine($"bench: phase {name} done in {Runtime.Progress.Fmt(sw.Elapsed.TotalSeconds)}");
            return r;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            string msg = $"phase {name} failed: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
            _summary.Notes.Add(msg);
            _log.WriteLine("bench: " + msg);
            return null;
        }
    }

    void Add(BenchTable t) => _tables.Add(t);
    void Plot(string file, string caption) => _plots.Add((file, caption));

    MachinePeak RunGemm()
    {
        var table = new BenchTable("gemm", "dtype", "size", "repeats", "seconds_per_matmul", "gflops", "gflop_per_cpu_second");
        var samples = new List<GemmSample>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            samples.AddRange(GemmPeak.Measure(dtype, _o.GemmSizes, _o.GemmSecondsPerSize, s => _log.WriteLine("bench: " + s)));
        foreach (var s in samples) table.Add(s.Dtype, s.Size, s.Repeats, s.Seconds, s.Gflops, s.GflopsPerCpuSecond);
        Add(table);
        double fp32 = GemmPeak.Best(samples, "float32"), bf16 = GemmPeak.Best(samples, "bfloat16");
        _summary.Extra["gemm_gflops_bfloat16"] = double.IsFinite(bf16) ? Math.Round(bf16, 2) : null;
        BenchPlots.Lines(Path.Combine(_o.OutDir, "gemm.png"), "Square GEMM through TorchSharp", "matrix size n", "GFLOP/s",
            new[] { "float32", "bfloat16" }.Select(d => new PlotSeries(d,
                samples.Where(s => s.Dtype == d).Select(s => (double)s.Size).ToArray(),
                samples.Where(s => s.Dtype == d).Select(s => s.Gflops).ToArray())).ToList());
        Plot("gemm.png", "GEMM GFLOP/s by size and dtype");
        return new MachinePeak(fp32, GemmPeak.BestPerCpuSecond(samples, "float32"));
    }

    void WriteOutputs(TimeSpan elapsed)
    {
        foreach (var t in _tables) t.WriteCsv(Path.Combine(_o.OutDir, t.Name + ".csv"));
        IO.AtomicFile.WriteAllText(Path.Combine(_o.OutDir, "summary.json"), _summary.ToJson());
        IO.AtomicFile.WriteAllText(Path.Combine(_o.OutDir, "summary.md"),
            BenchMarkdown.Render(_o, _summary, _tables, _plots, _loadStart, LoadAverage(), elapsed));
    }

    /// <summary>The 1/5/15-minute load averages (other processes on a shared machine make timings noisy).</summary>
    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "n/a"; }
    }
}
