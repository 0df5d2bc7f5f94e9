using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace PerkSharp.Evaluation;

/// <summary>
/// The comparison table of a quickstart summary (summary.json "rows": method, task, length, em, n and optionally
/// em_lo/em_hi, f1, subem): one row per (task, length), one "EM [lo, hi]" cell per method (percent, 95% Wilson
/// interval), then F1 and SubEM per method, an n column, and a final chance row so a reader can see how far above
/// guessing each method is.
/// </summary>
public static class ResultTable
{
    /// <summary>The EM a uniform guess among the possible answers gets, or null when unknown for the task.</summary>
    public static double? Chance(string task) => Data.DatasetRegistry.Chance(task);

    public static string Markdown(JsonObject summary)
    {
        var rows = summary["rows"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var methods = rows.Select(r => (string)r["method"]!).Distinct().ToList();
        var sb = new StringBuilder();
        // EM (with its interval) first, then F1 and SubEM per method.
        var columns = methods.Select(m => $"{m} EM [95% CI]").Concat(methods.Select(m => $"{m} F1")).Concat(methods.Select(m => $"{m} SubEM"));
        sb.AppendLine("| task | context tokens | n | " + string.Join(" | ", columns) + " |");
        sb.AppendLine("|---|---:|---:|" + string.Concat(methods.Concat(methods).Concat(methods).Select(_ => "---:|")));
        foreach (var g in rows.GroupBy(r => ((string)r["task"]!, (int)r["length"]!)))
        {
            var ns = g.Select(r => (int)r["n"]!).Distinct().ToList();
            bool sameN = ns.Count == 1;
            JsonObject? Of(string m) => g.FirstOrDefault(r => (string)r["method"]! == m);
            var cells = methods.Select(m => Of(m) is { } r ? Cell(r, !sameN) : "–")
                .Concat(methods.Select(m => Mean(Of(m), "f1"))).Concat(methods.Select(m => Mean(Of(m), "subem")));
            sb.AppendLine($"| {g.Key.Item1} | {g.Key.Item2} | {(sameN ? ns[0].ToString(CultureInfo.InvariantCulture) : "varies")} | {string.Join(" | ", cells)} |");
        }
        foreach (var task in rows.Select(r => (string)r["task"]!).Distinct())
        {
            string c = Chance(task) is double p ? Pct(p) : "–";
            sb.AppendLine($"| **chance** ({task}) | – | – | {string.Join(" | ", methods.Select(_ => c).Concat(methods.Concat(methods).Select(_ => "–")))} |");
        }
        return sb.ToString();
    }

    /// <summary>"EM [lo, hi]"; the interval comes from em_lo/em_hi when present, else from em and n (older summaries).</summary>
    static string Cell(JsonObject r, bool withN)
    {
        double em = (double)r["em"]!;
        int n = (int)r["n"]!;
        var (lo, hi) = r["em_lo"] is { } l && r["em_hi"] is { } h ? ((double)l, (double)h) : Wilson.OfMean(em, n);
        return $"{Pct(em)} [{Pct(lo)}, {Pct(hi)}]" + (withN ? $" (n={n})" : "");
    }

    /// <summary>A mean in percent, or "–" when the row or the field is absent (summaries written before SubEM).</summary>
    static string Mean(JsonObject? r, string key) => r?[key] is JsonValue v && v.TryGetValue(out double x) ? Pct(x) : "–";

    public static string Pct(double frac) => (frac * 100).ToString("0.0", CultureInfo.InvariantCulture);
}
