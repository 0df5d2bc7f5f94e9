using System.Globalization;
using System.Text;
using PerkSharp.Runtime;

namespace PerkSharp.Evaluation;

/// <summary>
/// `perk report`: reads the outputs.jsonl of one or more evaluations and writes report.md (a table per method,
/// task and length, and one by gold position, EM with n and its 95% Wilson interval) plus three PNG plots — accuracy vs context length, accuracy by gold
/// position and latency vs length — with ScottPlot (SkiaSharp rendering, no system fonts needed); for a training
/// run folder, its learning curve (<see cref="LearningCurve"/>).
/// </summary>
public static class ReportWriter
{
    /// <summary>Finds every outputs.jsonl under the given run folders (or takes the files themselves).</summary>
    public static List<EvalRecord> Collect(IEnumerable<string> runs)
    {
        var all = new List<EvalRecord>();
        foreach (var r in runs)
        {
            if (File.Exists(r)) { all.AddRange(EvalRecord.ReadAll(r)); continue; }
            if (!Directory.Exists(r)) throw new PerkException($"{r}: no such run folder or outputs.jsonl");
            var files = Directory.GetFiles(r, "outputs.jsonl", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new PerkException($"{r}: contains no outputs.jsonl (run perk eval first)");
            foreach (var f in files) all.AddRange(EvalRecord.ReadAll(f));
        }
        return all;
    }

    /// <summary>
    /// Splits report inputs into at most one training run folder (metrics.jsonl directly inside: its learning curve)
    /// and the evaluation sources (everything else, and the run folder too when evaluations lie under it).
    /// </summary>
    public static (string? RunDir, List<string> EvalPaths) Sources(IReadOnlyList<string> paths)
    {
        var runs = paths.Where(LearningCurve.IsRunFolder).Distinct().ToList();
        if (runs.Count > 1) throw new PerkException($"{runs[1]}: a report takes one training run folder (already have {runs[0]})");
        var evals = paths.Where(p => !LearningCurve.IsRunFolder(p)
                                     || Directory.EnumerateFiles(p, "outputs.jsonl", SearchOption.AllDirectories).Any()).ToList();
        return (runs.FirstOrDefault(), evals);
    }

    /// <summary>Every file a report may put into its folder (and nothing else): report.md, the evaluation PNGs, the learning curve.</summary>
    public static readonly IReadOnlyList<string> Files = new[] { "report.md", "accuracy_vs_length.png", "latency_vs_length.png", "accuracy_by_position.png", "learning_curve.png", "learning_curve.csv" };

    /// <summary>The files a report of these inputs writes (for the output check before any work).</summary>
    public static IEnumerable<string> FilesFor(bool evaluations, bool run) =>
        Files.Take(1).Concat(evaluations ? Files.Skip(1).Take(3) : Array.Empty<string>()).Concat(run ? Files.Skip(4) : Array.Empty<string>());

    /// <summary>Writes report.md and the PNGs into <paramref name="outDir"/>; returns the markdown.</summary>
    public static string Write(IReadOnlyList<EvalRecord> records, string outDir) => Write(records, outDir, null);

    /// <summary>
    /// As <see cref="Write(IReadOnlyList{EvalRecord}, string)"/>, plus the learning curve of the training run folder
    /// <paramref name="runDir"/> (learning_curve.png and .csv from its metrics.jsonl, and a section in report.md).
    /// </summary>
    public static string WriteWithLearningCurve(IReadOnlyList<EvalRecord> records, string outDir, string runDir) => Write(records, outDir, runDir);

    static string Write(IReadOnlyList<EvalRecord> records, string outDir, string? runDir)
    {
        var curve = runDir != null ? LearningCurve.Read(runDir) : null;          // read first: a bad metrics file writes nothing
        Directory.CreateDirectory(outDir);
        var md = new StringBuilder();
        if (records.Count > 0)
        {
            md.Append(Markdown(records));
            PlotByLength(records, r => r.Em * 100, "Accuracy (EM, %)", "Accuracy vs context length", Path.Combine(outDir, Files[1]));
            PlotByLength(records, r => r.EncodeMs + r.AnswerMs, "Latency per question (ms)", "Latency vs context length", Path.Combine(outDir, Files[2]));
            PlotByPosition(records, Path.Combine(outDir, Files[3]));
        }
        if (curve != null)
        {
            IO.AtomicFile.WriteAllText(Path.Combine(outDir, Files[5]), curve.Csv());
            curve.Plot(Path.Combine(outDir, Files[4]));
            if (md.Length > 0) md.AppendLine();
            md.Append(curve.Markdown(Files[4], Files[5]));
        }
        IO.AtomicFile.WriteAllText(Path.Combine(outDir, Files[0]), md.ToString());
        return md.ToString();
    }

    public static string Markdown(IReadOnlyList<EvalRecord> records)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| method | task | length | n | EM | EM 95% CI | F1 | SubEM | encode ms | answer ms |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var g in records.GroupBy(r => (r.Method, r.Task, r.Length)).OrderBy(g => g.Key.Task).ThenBy(g => g.Key.Length).ThenBy(g => g.Key.Method))
        {
            var s = GroupStats.Of(g.ToList());
            sb.AppendLine($"| {g.Key.Method} | {g.Key.Task} | {g.Key.Length} | {s.N} | {P(s.Em)} | {Ci(g.ToList())} | {P(s.F1)} | {(s.SubEm is double sub ? P(sub) : "–")} | {s.EncodeMs:0} | {s.AnswerMs:0} |");
        }
        var positions = records.Select(r => r.Position ?? "n/a").Distinct().OrderBy(p => p, StringComparer.Ordinal).ToList();
        if (positions.Count > 1 || (positions.Count == 1 && positions[0] != "n/a"))
        {
            sb.AppendLine().AppendLine("EM by gold position:").AppendLine();
            sb.AppendLine("| method | " + string.Join(" | ", positions) + " |");
            sb.AppendLine("|---|" + string.Concat(positions.Select(_ => "---:|")));
            foreach (var m in records.Select(r => r.Method).Distinct().OrderBy(x => x))
                sb.AppendLine($"| {m} | " + string.Join(" | ", positions.Select(p =>
                {
                    var rs = records.Where(r => r.Method == m && (r.Position ?? "n/a") == p).ToList();
                    return rs.Count == 0 ? "–" : $"{P(rs.Average(r => r.Em))} {Ci(rs)} (n={rs.Count})";
                })) + " |");
        }
        return sb.ToString();
    }

    static string P(double frac) => (frac * 100).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>"[lo, hi]" in percent: the 95% Wilson interval of the EM of these records (EM is 0/1 per record).</summary>
    static string Ci(IReadOnlyList<EvalRecord> rs)
    {
        var (lo, hi) = Wilson.Interval((int)Math.Round(rs.Sum(r => r.Em)), rs.Count);
        return $"[{P(lo)}, {P(hi)}]";
    }

    static void PlotByLength(IReadOnlyList<EvalRecord> records, Func<EvalRecord, double> value, string yLabel, string title, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var series in records.GroupBy(r => (r.Method, r.Task)).OrderBy(g => g.Key.Method))
        {
            var pts = series.GroupBy(r => r.Length).OrderBy(g => g.Key).ToList();
            double[] xs = pts.Select(g => (double)g.Key).ToArray();
            double[] ys = pts.Select(g => g.Average(value)).ToArray();
            var sc = plot.Add.Scatter(xs, ys);
            sc.LegendText = $"{series.Key.Method} ({series.Key.Task})";
            sc.MarkerSize = 8;
        }
        plot.Title(title);
        plot.XLabel("Context length (tokens)");
        plot.YLabel(yLabel);
        plot.ShowLegend();
        Save(plot, path);
    }

    static void PlotByPosition(IReadOnlyList<EvalRecord> records, string path)
    {
        var plot = new ScottPlot.Plot();
        var positions = records.Select(r => r.Position ?? "n/a").Distinct().OrderBy(p => p, StringComparer.Ordinal).ToList();
        var methods = records.Select(r => r.Method).Distinct().OrderBy(m => m).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        for (int mi = 0; mi < methods.Count; mi++)
        {
            var bars = new List<ScottPlot.Bar>();
            for (int pi = 0; pi < positions.Count; pi++)
            {
                var rs = records.Where(r => r.Method == methods[mi] && (r.Position ?? "n/a") == positions[pi]).ToList();
                if (rs.Count == 0) continue;
                bars.Add(new ScottPlot.Bar
                {
                    Position = pi * (methods.Count + 1) + mi, Value = rs.Average(r => r.Em) * 100,
                    FillColor = palette.GetColor(mi),
                });
            }
            var bp = plot.Add.Bars(bars);
            bp.LegendText = methods[mi];
            bp.Color = palette.GetColor(mi);
        }
        var ticks = positions.Select((p, i) => new ScottPlot.Tick(i * (methods.Count + 1) + (methods.Count - 1) / 2.0, p)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Title("Accuracy by gold position");
        plot.XLabel("Gold position");
        plot.YLabel("Accuracy (EM, %)");
        plot.ShowLegend();
        Save(plot, path);
    }

    internal static void Save(ScottPlot.Plot plot, string path)
    {
        // Render to bytes, then write atomically (a report is a result file too).
        byte[] png = plot.GetImageBytes(800, 500, ScottPlot.ImageFormat.Png);
        IO.AtomicFile.WriteAllBytes(path, png);
    }
}
