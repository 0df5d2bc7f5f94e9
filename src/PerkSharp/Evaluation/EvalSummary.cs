using System.Text.Json;
using System.Text.Json.Nodes;

namespace PerkSharp.Evaluation;

/// <summary>
/// Aggregate of a group of outputs records: count, mean EM/F1/SubEM, mean timings. SubEM is null when any record
/// predates it (older outputs.jsonl), rather than a mean over part of the group.
/// </summary>
public sealed record GroupStats(int N, double Em, double F1, double EncodeMs, double AnswerMs, double? SubEm = null)
{
    public static GroupStats Of(IReadOnlyCollection<EvalRecord> rs) => rs.Count == 0
        ? new GroupStats(0, 0, 0, 0, 0)
        : new GroupStats(rs.Count, rs.Average(r => r.Em), rs.Average(r => r.F1), rs.Average(r => r.EncodeMs), rs.Average(r => r.AnswerMs),
            rs.All(r => r.SubEm.HasValue) ? rs.Average(r => r.SubEm!.Value) : null);

    public JsonObject ToJson() => new()
    {
        ["n"] = N, ["em"] = Em, ["f1"] = F1, ["subem"] = SubEm, ["encode_ms"] = EncodeMs, ["answer_ms"] = AnswerMs,
    };
}

/// <summary>
/// metrics.json of one evaluation: overall, and by task, by length, by gold position and by (method, task, length)
/// — all means over the lines of outputs.jsonl, so the file can be recomputed from it (<see cref="Compute"/>).
/// </summary>
public static class EvalSummary
{
    public static JsonObject Compute(IReadOnlyList<EvalRecord> records)
    {
        JsonObject By(Func<EvalRecord, string> key)
        {
            var o = new JsonObject();
            foreach (var g in records.GroupBy(key).OrderBy(g => g.Key, StringComparer.Ordinal))
                o[g.Key] = GroupStats.Of(g.ToList()).ToJson();
            return o;
        }
        var rows = new JsonArray();
        foreach (var g in records.GroupBy(r => (r.Method, r.Task, r.Length)).OrderBy(g => g.Key.Method).ThenBy(g => g.Key.Task).ThenBy(g => g.Key.Length))
        {
            var s = GroupStats.Of(g.ToList());
            rows.Add(new JsonObject
            {
                ["method"] = g.Key.Method, ["task"] = g.Key.Task, ["length"] = g.Key.Length,
                ["em"] = s.Em, ["f1"] = s.F1, ["subem"] = s.SubEm, ["n"] = s.N, ["encode_ms"] = s.EncodeMs, ["answer_ms"] = s.AnswerMs,
            });
        }
        var all = GroupStats.Of(records.ToList()).ToJson();
        all["by_task"] = By(r => r.Task);
        all["by_length"] = By(r => r.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        all["by_position"] = By(r => r.Position ?? "n/a");
        all["rows"] = rows;
        return all;
    }

    public static void Write(string path, IReadOnlyList<EvalRecord> records) =>
        IO.AtomicFile.WriteAllText(path, Compute(records).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
