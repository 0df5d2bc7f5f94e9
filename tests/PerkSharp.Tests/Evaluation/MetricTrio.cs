using System.Text.Json.Nodes;

namespace PerkSharp.Tests.Evaluation;

/// <summary>
/// EM, F1 and SubEM in everything an evaluation writes or prints: called on the folders and output of each writer
/// (perk eval, the quickstart, perk reproduce babilong), so a writer that drops one of them fails its test.
/// </summary>
internal static class MetricTrio
{
    public static readonly string[] Keys = { "em", "f1", "subem" };

    /// <summary>Every outputs.jsonl line, every metrics.json group and row and every summary.json row under <paramref name="root"/>.</summary>
    public static void AssertEverywhere(string root)
    {
        var outputs = Directory.GetFiles(root, "outputs.jsonl", SearchOption.AllDirectories);
        var metrics = Directory.GetFiles(root, "metrics.json", SearchOption.AllDirectories);
        Assert.NotEmpty(outputs);
        Assert.NotEmpty(metrics);
        foreach (var f in outputs)
            foreach (var (line, i) in File.ReadAllLines(f).Select((l, i) => (l, i)).Where(t => t.l.Length > 0))
                Has(JsonNode.Parse(line)!.AsObject(), $"{f}:{i + 1}");
        foreach (var f in metrics)
        {
            var m = JsonNode.Parse(File.ReadAllText(f))!.AsObject();
            Has(m, f);
            foreach (var by in new[] { "by_task", "by_length", "by_position" })
                foreach (var (k, g) in m[by]!.AsObject()) Has(g!.AsObject(), $"{f} {by} {k}");
            foreach (var r in m["rows"]!.AsArray()) Has(r!.AsObject(), $"{f} rows");
        }
        foreach (var f in Directory.GetFiles(root, "summary.json", SearchOption.AllDirectories))
            foreach (var r in JsonNode.Parse(File.ReadAllText(f))!["rows"]!.AsArray()) Has(r!.AsObject(), $"{f} rows");
    }

    /// <summary>A markdown table printed or written as a summary has EM, F1 and SubEM columns in its header.</summary>
    public static void AssertTable(string markdown)
    {
        string header = markdown.Split('\n').First(l => l.StartsWith("| ", StringComparison.Ordinal));
        var cells = header.Split('|').Select(c => c.Trim()).ToList();
        foreach (var metric in new[] { "EM", "F1", "SubEM" })
            Assert.True(cells.Any(c => c == metric || c.EndsWith(" " + metric, StringComparison.Ordinal) || c.Contains(" " + metric + " ", StringComparison.Ordinal)),
                $"no {metric} column in: {header}");
    }

    static void Has(JsonObject o, string where)
    {
        foreach (var k in Keys)
            Assert.True(o[k] is JsonValue v && v.TryGetValue(out double x) && double.IsFinite(x), $"{where}: no number \"{k}\" in {o.ToJsonString()[..Math.Min(200, o.ToJsonString().Length)]}");
    }
}
