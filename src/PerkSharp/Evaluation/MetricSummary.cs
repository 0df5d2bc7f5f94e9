using System.Globalization;
using System.Text;
using PerkSharp.Data;

namespace PerkSharp.Evaluation;

/// <summary>Scores of one evaluated row.</summary>
public sealed record MetricRow(string Id, string Task, int Length, string? Position, double Em, double F1, double SubEm, bool? LabelCorrect);

/// <summary>Mean scores of a group of rows.</summary>
public sealed record MetricGroup(string Task, int Length, string? Position, int Count, double Accuracy, double F1, double SubEm, double? LabelAccuracy);

/// <summary>
/// Aggregates per-row scores by (task, length, position). Every row is scored once, deterministically (the
/// official code draws min(3000, N) rows with replacement; this port does not — docs/DATA.md).
/// </summary>
public sealed class MetricSummary
{
    readonly List<MetricRow> _rows = new();

    public IReadOnlyList<MetricRow> Rows => _rows;

    /// <summary>
    /// Scores <paramref name="response"/> against the training target of <paramref name="example"/>. Label accuracy
    /// (BABILong's check) is added for tasks whose family declares a closed answer set (babilong/qa1..qa5).
    /// </summary>
    public MetricRow Add(PerkExample example, string response)
    {
        string target = PerkFormat.Target(example.Answer, example.Support);
        bool? label = null;
        if (DatasetRegistry.Labels(example.Task) is { } labels)
            label = PerkMetrics.BabilongLabelCorrectOnOutput(response, example.Answer, example.Question, labels);
        var row = new MetricRow(example.Id, example.Task, example.Length, example.Position,
            PerkMetrics.ExactMatch(response, target), PerkMetrics.F1(response, target), PerkMetrics.SubExactMatch(response, target), label);
        _rows.Add(row);
        return row;
    }

    /// <summary>Groups by task, length and position (sorted), plus the overall mean as the last group ("all").</summary>
    public List<MetricGroup> Groups()
    {
        var groups = _rows.GroupBy(r => (r.Task, r.Length, r.Position ?? ""))
            .OrderBy(g => g.Key.Task, StringComparer.Ordinal).ThenBy(g => g.Key.Length).ThenBy(g => g.Key.Item3, StringComparer.Ordinal)
            .Select(g => Mean(g.Key.Task, g.Key.Length, g.Key.Item3.Length == 0 ? null : g.Key.Item3, g.ToList())).ToList();
        if (_rows.Count > 0) groups.Add(Mean("all", 0, null, _rows));
        return groups;
    }

    static MetricGroup Mean(string task, int length, string? pos, IReadOnlyList<MetricRow> rows)
    {
        var labelled = rows.Where(r => r.LabelCorrect.HasValue).ToList();
        return new MetricGroup(task, length, pos, rows.Count, rows.Average(r => r.Em), rows.Average(r => r.F1), rows.Average(r => r.SubEm),
            labelled.Count > 0 ? labelled.Average(r => r.LabelCorrect!.Value ? 1.0 : 0.0) : null);
    }

    /// <summary>A fixed-width text table of <see cref="Groups"/>.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{"task",-22} {"length",7} {"pos",5} {"n",6} {"acc(EM)",8} {"F1",7} {"SubEM",7} {"label",7}");
        foreach (var g in Groups())
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{g.Task,-22} {(g.Length > 0 ? g.Length / 1024 + "k" : "-"),7} {g.Position ?? "-",5} {g.Count,6} {g.Accuracy,8:0.000} {g.F1,7:0.000} {g.SubEm,7:0.000} {(g.LabelAccuracy.HasValue ? g.LabelAccuracy.Value.ToString("0.000", CultureInfo.InvariantCulture) : "-"),7}"));
        return sb.ToString();
    }
}
