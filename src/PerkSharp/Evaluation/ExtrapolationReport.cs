using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace PerkSharp.Evaluation;

/// <summary>
/// report.md of a length-extrapolation experiment (`perk reproduce babilong`): the summary's result table (EM with
/// its 95% Wilson interval in every cell, a chance row per task), one plot per task of EM against context length
/// with the intervals as error bars and chance as a dashed line, each PERK run's learning curve (a report folder per
/// run, <see cref="ReportWriter.WriteWithLearningCurve"/>), and the per-cell details table. Every number comes
/// from summary.json or the outputs.jsonl files it was computed from.
/// </summary>
public static class ExtrapolationReport
{
    /// <summary>A training run whose learning curve is reported, with the evaluations of what it trained (may be empty).</summary>
    public sealed record Run(string Name, string RunDir, IReadOnlyList<EvalRecord> Records);

    public const string Folder = "report";

    /// <summary>Writes <c>root/report.md</c> and its plots under <c>root/report/</c>; returns the markdown.</summary>
    public static string Write(string root, JsonObject summary, IReadOnlyList<EvalRecord> records, IReadOnlyList<Run> runs, string title, string description)
    {
        string dir = Path.Combine(root, Folder);
        Directory.CreateDirectory(dir);
        var rows = summary["rows"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var md = new StringBuilder();
        md.AppendLine($"# {title}").AppendLine().AppendLine(description).AppendLine();
        md.AppendLine("## Exact match by context length").AppendLine();
        md.AppendLine("EM in percent with its 95% Wilson interval in brackets; n is the number of test examples per cell. " +
                      "The chance row is the EM of a uniform guess among the task's possible answers.").AppendLine();
        md.Append(ResultTable.Markdown(summary)).AppendLine();
        foreach (var task in rows.Select(r => (string)r["task"]!).Distinct())
        {
            string png = $"em_vs_length_{task}.png";
            PlotTask(rows.Where(r => (string)r["task"]! == task).ToList(), ResultTable.Chance(task), $"EM vs context length: {task}", Path.Combine(dir, png));
            md.AppendLine($"![EM vs context length, {task}]({Folder}/{png})").AppendLine();
        }
        if (runs.Count > 0)
        {
            md.AppendLine("## PERK learning curves").AppendLine();
            foreach (var run in runs)
            {
                string sub = Path.Combine(dir, run.Name);
                ReportWriter.WriteWithLearningCurve(run.Records, sub, run.RunDir);
                md.AppendLine($"### {run.Name}").AppendLine();
                md.AppendLine($"![learning curve {run.Name}]({Folder}/{run.Name}/learning_curve.png)").AppendLine();
                md.AppendLine($"Validation checks with intervals, and this run's evaluations: [{Folder}/{run.Name}/report.md]({Folder}/{run.Name}/report.md).").AppendLine();
            }
        }
        if (records.Count > 0)
        {
            md.AppendLine("## Details (F1, latency, gold position)").AppendLine();
            md.Append(ReportWriter.Markdown(records));
        }
        IO.AtomicFile.WriteAllText(Path.Combine(root, "report.md"), md.ToString());
        return md.ToString();
    }

    /// <summary>
    /// EM (percent) against context length for one task, a series per method with Wilson error bars. Lengths double
    /// from one test length to the next, so they are placed evenly (log scale) and labelled "1k", "2k", ...; methods
    /// are nudged apart so their bars do not overlap.
    /// </summary>
    public static void PlotTask(IReadOnlyList<JsonObject> rows, double? chance, string title, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var lengths = rows.Select(r => (int)r["length"]!).Distinct().Order().ToList();
        var methods = rows.Select(r => (string)r["method"]!).Distinct().ToList();
        for (int mi = 0; mi < methods.Count; mi++)
        {
            var pts = rows.Where(r => (string)r["method"]! == methods[mi]).OrderBy(r => (int)r["length"]!).ToList();
            double nudge = (mi - (methods.Count - 1) / 2.0) * 0.06;
            double[] xs = pts.Select(r => lengths.IndexOf((int)r["length"]!) + nudge).ToArray();
            double[] ys = pts.Select(r => (double)r["em"]! * 100).ToArray();
            var (lo, hi) = (pts.Select(Lo).ToArray(), pts.Select(Hi).ToArray());
            var color = palette.GetColor(mi);
            var sc = plot.Add.Scatter(xs, ys);
            sc.Color = color;
            sc.MarkerSize = 8;
            sc.LineWidth = 2;
            sc.LegendText = methods[mi];
            var eb = plot.Add.ErrorBar(xs, ys, hi.Zip(ys, (h, y) => h * 100 - y).ToArray());
            eb.YErrorNegative = lo.Zip(ys, (l, y) => y - l * 100).ToArray();
            eb.Color = color;
        }
        if (chance is double c)
        {
            var line = plot.Add.HorizontalLine(c * 100);
            line.LinePattern = ScottPlot.LinePattern.Dashed;
            line.Color = palette.GetColor(7);
            line.LegendText = $"chance ({ResultTable.Pct(c)}%)";
        }
        var ticks = lengths.Select((len, i) => new ScottPlot.Tick(i, Name(len))).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.SetLimits(-0.5, Math.Max(lengths.Count - 1, 0) + 0.5, 0, 100);
        plot.Title(title);
        plot.XLabel("Context length (tokens)");
        plot.YLabel("Exact match (%, 95% Wilson interval)");
        plot.ShowLegend();
        ReportWriter.Save(plot, path);
    }

    /// <summary>The interval's ends from the row (summaries written before intervals: from em and n).</summary>
    static double Lo(JsonObject r) => r["em_lo"] is { } l ? (double)l : Wilson.OfMean((double)r["em"]!, (int)r["n"]!).Lo;
    static double Hi(JsonObject r) => r["em_hi"] is { } h ? (double)h : Wilson.OfMean((double)r["em"]!, (int)r["n"]!).Hi;

    /// <summary>1024 → "1k"; buckets that are not whole thousands keep their token count.</summary>
    static string Name(int tokens) => tokens % 1024 == 0 ? $"{tokens / 1024}k" : tokens.ToString(CultureInfo.InvariantCulture);
}
