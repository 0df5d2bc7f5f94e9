using System.Globalization;
using System.Text;
using PerkSharp.Runtime;

namespace PerkSharp.Evaluation;

/// <summary>
/// `perk report`: reads the outputs.jsonl of one or more evaluations and writes report.md (a table per method,
/// task and length, and one by gold position) plus three PNG plots — accuracy vs context length, accuracy by gold
/// position and latency vs length — with ScottPlot (SkiaSharp rendering, no system fonts needed).
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

    /// <summary>The files <see cref="Write"/> puts into its folder (and nothing else).</summary>
    public static readonly IReadOnlyList<string> Files = new[] { "report.md", "accuracy_vs_length.png", "latency_vs_length.png", "accuracy_by_position.png" };

    /// <summary>Writes report.md and the PNGs into <paramref name="outDir"/>; returns the markdown.</summary>
    public static string Write(IReadOnlyList<EvalRecord> records, string outDir)
    {
        Directory.CreateDirectory(outDir);
        string md = Markdown(records);
        IO.AtomicFile.WriteAllText(Path.Combine(outDir, Files[0]), md);
        PlotByLength(records, r => r.Em * 100, "Accuracy (EM, %)", "Accuracy vs context length", Path.Combine(outDir, Files[1]));
        PlotByLength(records, r => r.EncodeMs + r.AnswerMs, "Latency per question (ms)", "Latency vs context length", Path.Combine(outDir, Files[2]));
        PlotByPosition(records, Path.Combine(outDir, Files[3]));
        return md;
    }

    public static string Markdown(IReadOnlyList<EvalRecord> records)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| method | task | length | n | EM | F1 | encode ms | answer ms |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var g in records.GroupBy(r => (r.Method, r.Task, r.Length)).OrderBy(g => g.Key.Task).ThenBy(g => g.Key.Length).ThenBy(g => g.Key.Method))
        {
            var s = GroupStats.Of(g.ToList());
            sb.AppendLine($"| {g.Key.Method} | {g.Key.Task} | {g.Key.Length} | {s.N} | {P(s.Em)} | {P(s.F1)} | {s.EncodeMs:0} | {s.AnswerMs:0} |");
        }
        var positions = records.Select(r => r.Position ?? "n/a").Distinct().OrderBy(p => p, StringComparer.Ordinal).ToList();
        if (positions.Count > 1 || positions[0] != "n/a")
        {
            sb.AppendLine().AppendLine("EM by gold position:").AppendLine();
            sb.AppendLine("| method | " + string.Join(" | ", positions) + " |");
            sb.AppendLine("|---|" + string.Concat(positions.Select(_ => "---:|")));
            foreach (var m in records.Select(r => r.Method).Distinct().OrderBy(x => x))
                sb.AppendLine($"| {m} | " + string.Join(" | ", positions.Select(p =>
                {
                    var rs = records.Where(r => r.Method == m && (r.Position ?? "n/a") == p).ToList();
                    return rs.Count == 0 ? "–" : $"{P(rs.Average(r => r.Em))} (n={rs.Count})";
                })) + " |");
        }
        return sb.ToString();
    }

    static string P(double frac) => (frac * 100).ToString("0.0", CultureInfo.InvariantCulture);

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

    static void Save(ScottPlot.Plot plot, string path)
    {
        // Render to bytes, then write atomically (a report is a result file too).
        byte[] png = plot.GetImageBytes(800, 500, ScottPlot.ImageFormat.Png);
        IO.AtomicFile.WriteAllBytes(path, png);
    }
}
