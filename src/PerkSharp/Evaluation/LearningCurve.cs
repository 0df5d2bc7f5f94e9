using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Evaluation;

/// <summary>One meta-step of a run: the training loss logged there and/or the validation check made there.</summary>
public sealed record CurvePoint(long Step, double? TrainLoss, double? TrainLossMean, double? ValLoss, double? ValEm,
                                int? ValEmN, double? ValEmLo, double? ValEmHi);

/// <summary>
/// The learning curve of a training run folder, read from its metrics.jsonl (<see cref="RunLog"/>): training loss
/// (outer_loss for PERK, answer_loss for FT-ICR) with a trailing running mean, and each validation check's val_loss
/// and val_em with a 95% Wilson interval when the number of decoded examples is known.
/// </summary>
public sealed record LearningCurve(string RunDir, string TrainKey, int Window, IReadOnlyList<CurvePoint> Points, string? NSource)
{
    public const string MetricsFile = "metrics.jsonl";

    public static bool IsRunFolder(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, MetricsFile));

    public static LearningCurve Read(string runDir)
    {
        string path = Path.Combine(runDir, MetricsFile);
        if (!File.Exists(path)) throw new PerkException($"{runDir}: not a training run folder (no {MetricsFile})");
        var lines = ReadLines(path);
        var train = lines.Where(l => Kind(l) == "train").ToList();
        var val = lines.Where(l => Kind(l) == "val").ToList();
        if (train.Count == 0 && val.Count == 0) throw new PerkException($"{path}: no train or val lines");
        string key = train.Any(l => l.ContainsKey("outer_loss")) || !train.Any(l => l.ContainsKey("answer_loss")) ? "outer_loss" : "answer_loss";
        var (configN, nSource) = ConfigN(runDir);

        var trainBy = new SortedDictionary<long, double?>();
        foreach (var l in train) trainBy[Step(l)] = Num(l, key);             // a resumed run never repeats a step; last wins
        var valBy = new SortedDictionary<long, JsonObject>();
        foreach (var l in val) valBy[Step(l)] = l;

        // Trailing running mean over about a tenth of the logged points: smooth enough to read, short enough to follow.
        int window = Math.Clamp((int)Math.Round(trainBy.Count / 10.0), 1, 50);
        var recent = new Queue<double>();
        var means = new Dictionary<long, double>();
        foreach (var (s, v) in trainBy)
        {
            if (v is not double x) continue;                                  // a skipped (non-finite) step
            recent.Enqueue(x);
            if (recent.Count > window) recent.Dequeue();
            means[s] = recent.Average();
        }

        bool anyLineN = false;
        var points = new List<CurvePoint>();
        foreach (long s in trainBy.Keys.Union(valBy.Keys).Order())
        {
            double? tl = trainBy.TryGetValue(s, out var t) ? t : null;
            double? tm = means.TryGetValue(s, out var m) ? m : null;
            double? vl = null, em = null, lo = null, hi = null; int? n = null;
            if (valBy.TryGetValue(s, out var v))
            {
                vl = Num(v, "val_loss");
                em = Num(v, "val_em");
                n = Num(v, "val_em_n") is double ln ? (int)ln : null;           // exact when the trainer logs it
                if (n != null) anyLineN = true;
                else n = configN;
                // A fraction of n 0/1 scores is a multiple of 1/n; if it is not, n is not what was decoded.
                if (em is double e && n is int k && k > 0 && Math.Abs(e * k - Math.Round(e * k)) < 1e-6)
                    (lo, hi) = Wilson.OfMean(e, k);
                else n = null;
            }
            points.Add(new CurvePoint(s, tl, tm, vl, em, n, lo, hi));
        }
        return new LearningCurve(runDir, key, window, points, anyLineN ? "val_em_n in metrics.jsonl" : configN != null ? nSource : null);
    }

    /// <summary>The JSON lines of metrics.jsonl; a torn last line (a run killed, or still writing) is left out, as on resume.</summary>
    static List<JsonObject> ReadLines(string path)
    {
        var text = File.ReadAllLines(path).Select((l, i) => (Line: l, No: i + 1)).Where(x => x.Line.Length > 0).ToList();
        var list = new List<JsonObject>();
        foreach (var (line, no) in text)
        {
            try { list.Add(JsonNode.Parse(line) as JsonObject ?? throw new System.Text.Json.JsonException("not an object")); }
            catch (System.Text.Json.JsonException) when (no == text[^1].No) { }
            catch (System.Text.Json.JsonException) { throw new PerkException($"{path}: line {no} is not a JSON object"); }
        }
        return list;
    }

    static string? Kind(JsonObject l) => (l["kind"] ?? l["split"]) is JsonValue v && v.TryGetValue(out string? k) ? k : null;
    static long Step(JsonObject l) => l["step"] is JsonValue v && v.TryGetValue(out long s) ? s
        : throw new PerkException($"{MetricsFile}: a line has no integer step: {l.ToJsonString()[..Math.Min(80, l.ToJsonString().Length)]}");
    static double? Num(JsonObject l, string key) => l[key] is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d) ? d : null;

    /// <summary>
    /// Decoded validation examples per check from the run's config.yaml: val_em_examples, capped by max_val_data
    /// (the trainer's min). It assumes the validation set was at least that large; the multiple-of-1/n check above
    /// drops the interval when that assumption visibly fails.
    /// </summary>
    static (int? N, string Source) ConfigN(string runDir)
    {
        string cfgPath = Path.Combine(runDir, "config.yaml");
        if (!File.Exists(cfgPath)) return (null, "");
        try
        {
            var cfg = TrainConfigLoader.Load(cfgPath);
            int n = cfg.MaxValData > 0 ? Math.Min(cfg.ValEmExamples, cfg.MaxValData) : cfg.ValEmExamples;
            return (n > 0 ? n : null, "config.yaml (min of val_em_examples and max_val_data)");
        }
        catch (PerkException) { return (null, ""); }
    }

    /// <summary>Files <see cref="WriteInto"/> puts into a run folder.</summary>
    public static readonly IReadOnlyList<string> RunFiles = new[] { "learning_curve.csv", "learning_curve.png" };

    /// <summary>
    /// Writes the run's own learning curve (learning_curve.csv and .png) into the run folder, as every training run
    /// ends; returns the curve, or null when the run logged nothing to plot.
    /// </summary>
    public static LearningCurve? WriteInto(string runDir)
    {
        if (!IsRunFolder(runDir)) return null;
        LearningCurve curve;
        try { curve = Read(runDir); }
        catch (PerkException) { return null; }                        // no train or val lines yet
        IO.AtomicFile.WriteAllText(Path.Combine(runDir, RunFiles[0]), curve.Csv());
        curve.Plot(Path.Combine(runDir, RunFiles[1]));
        return curve;
    }

    public string Csv()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"step,{TrainKey},{TrainKey}_running_mean,val_loss,val_em,val_em_n,val_em_lo,val_em_hi");
        foreach (var p in Points)
            sb.AppendLine(string.Join(",", p.Step.ToString(CultureInfo.InvariantCulture), C(p.TrainLoss), C(p.TrainLossMean),
                C(p.ValLoss), C(p.ValEm), p.ValEmN?.ToString(CultureInfo.InvariantCulture) ?? "", C(p.ValEmLo), C(p.ValEmHi)));
        return sb.ToString();
    }

    static string C(double? v) => v?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    /// <summary>Validation loss and training loss (left axis) and validation EM in percent (right axis) against meta-step.</summary>
    public void Plot(string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var tr = Points.Where(p => p.TrainLossMean != null).ToList();
        if (tr.Count > 0)
        {
            var sc = plot.Add.Scatter(tr.Select(p => (double)p.Step).ToArray(), tr.Select(p => p.TrainLossMean!.Value).ToArray());
            sc.Color = palette.GetColor(7).WithAlpha(0.45);                 // faint: context, not the result
            sc.MarkerSize = 0;
            sc.LineWidth = 1;
            sc.LegendText = $"train {TrainKey} (running mean of {Window})";
        }
        var vl = Points.Where(p => p.ValLoss != null).ToList();
        if (vl.Count > 0)
        {
            var sc = plot.Add.Scatter(vl.Select(p => (double)p.Step).ToArray(), vl.Select(p => p.ValLoss!.Value).ToArray());
            sc.Color = palette.GetColor(0);
            sc.LineWidth = 2;
            sc.MarkerSize = 7;
            sc.LegendText = "val answer loss";
        }
        var ve = Points.Where(p => p.ValEm != null).ToList();
        if (ve.Count > 0)
        {
            double[] xs = ve.Select(p => (double)p.Step).ToArray(), ys = ve.Select(p => p.ValEm!.Value * 100).ToArray();
            var sc = plot.Add.Scatter(xs, ys);
            sc.Color = palette.GetColor(1);
            sc.LineWidth = 2;
            sc.MarkerSize = 7;
            sc.LegendText = ve.All(p => p.ValEmLo != null) ? "val EM % (95% Wilson interval)" : "val EM %";
            sc.Axes.YAxis = plot.Axes.Right;
            var withCi = ve.Where(p => p.ValEmLo != null).ToList();
            if (withCi.Count > 0)
            {
                var eb = plot.Add.ErrorBar(withCi.Select(p => (double)p.Step).ToArray(), withCi.Select(p => p.ValEm!.Value * 100).ToArray(),
                    withCi.Select(p => (p.ValEmHi!.Value - p.ValEm!.Value) * 100).ToArray());
                eb.YErrorNegative = withCi.Select(p => (p.ValEm!.Value - p.ValEmLo!.Value) * 100).ToArray();
                eb.Color = palette.GetColor(1);
                eb.Axes.YAxis = plot.Axes.Right;
            }
            plot.Axes.Right.Label.Text = "Validation EM (%)";
            plot.Axes.SetLimitsY(0, 100, plot.Axes.Right);
        }
        plot.Title($"Learning curve: {Path.GetFileName(Path.GetFullPath(RunDir).TrimEnd(Path.DirectorySeparatorChar))}");
        plot.XLabel("Meta-step");
        plot.YLabel("Loss");
        plot.ShowLegend(ScottPlot.Edge.Bottom);                              // outside: curves fill every corner
        ReportWriter.Save(plot, path);
    }

    /// <summary>The report.md section: what the files are, and each validation check with n and its interval.</summary>
    public string Markdown(string pngName, string csvName)
    {
        var sb = new StringBuilder();
        var val = Points.Where(p => p.ValLoss != null || p.ValEm != null).ToList();
        sb.AppendLine($"## Learning curve of {RunDir}").AppendLine();
        sb.AppendLine($"![learning curve]({pngName})").AppendLine();
        sb.AppendLine($"Data: `{csvName}` ({Points.Count} steps from {MetricsFile}: {Points.Count(p => p.TrainLoss != null)} with train {TrainKey}, " +
                      $"{val.Count} validation checks). The faint line is the running mean of train {TrainKey} over {Window} logged steps.");
        if (val.Count == 0) return sb.ToString();
        if (val.Any(p => p.ValEm != null))
            sb.AppendLine(NSource != null ? $"Val EM n from {NSource}." : "Val EM n unknown (no val_em_n in metrics.jsonl, no usable config.yaml): no intervals.");
        sb.AppendLine().AppendLine("| step | val answer loss | val EM [95% CI] | n |").AppendLine("|---:|---:|---:|---:|");
        foreach (var p in val)
        {
            string em = p.ValEm is double e ? ResultTable.Pct(e) + (p.ValEmLo is double lo ? $" [{ResultTable.Pct(lo)}, {ResultTable.Pct(p.ValEmHi!.Value)}]" : "") : "–";
            sb.AppendLine($"| {p.Step} | {(p.ValLoss is double l ? RunLog.F(l) : "–")} | {em} | {p.ValEmN?.ToString(CultureInfo.InvariantCulture) ?? "–"} |");
        }
        return sb.ToString();
    }
}
