using PerkSharp.IO;

namespace PerkSharp.Evaluation;

/// <summary>
/// The folder `perk eval` writes per data file — outputs.jsonl and metrics.json — and the folder of such folders it
/// fills (RUN/eval, or --out with several data files). Written whole and atomically, so a replaced evaluation never
/// mixes old and new files.
/// </summary>
public static class EvalFolder
{
    public const string Outputs = "outputs.jsonl";
    public const string Metrics = "metrics.json";
    /// <summary>Rows that could not be evaluated, one JSON object each: file, line, guid, reason.</summary>
    public const string Failures = "failures.jsonl";

    /// <summary>A row that could not be evaluated, where it is and why.</summary>
    public sealed record Failure(string File, string Line, string Guid, string Reason);

    /// <summary>One evaluation: its files, plus the report `perk report` writes beside them by default.</summary>
    public static readonly OutputKind Kind = new("evaluation", new[] { Outputs, Metrics, Failures }.Concat(ReportWriter.Files).ToArray());

    /// <summary>A folder of evaluations (subfolders), possibly with a report over them.</summary>
    public static readonly OutputKind SetKind = new("set of evaluations", ReportWriter.Files, Kind);

    /// <summary>Writes <paramref name="records"/> as an evaluation folder; an existing one is replaced only with force.</summary>
    /// <param name="failures">Rows that could not be evaluated: listed in failures.jsonl and counted in metrics.json ("failed").</param>
    /// <param name="settings">What produced the records (checkpoint, config, test-time keys): metrics.json "settings".</param>
    public static void Write(string dir, IReadOnlyList<EvalRecord> records, bool force, IReadOnlyList<Failure>? failures = null,
                             System.Text.Json.Nodes.JsonObject? settings = null)
    {
        OutputGuard.Folder(dir, Kind, force);
        AtomicFile.WriteDirectory(dir, tmp =>
        {
            EvalRecord.WriteAll(Path.Combine(tmp, Outputs), records);
            var metrics = EvalSummary.Compute(records);
            metrics["failed"] = failures?.Count ?? 0;
            if (settings != null) metrics["settings"] = settings.DeepClone();
            File.WriteAllText(Path.Combine(tmp, Metrics), metrics.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            if (failures is { Count: > 0 })
                File.WriteAllLines(Path.Combine(tmp, Failures), failures.Select(f => new System.Text.Json.Nodes.JsonObject
                    { ["file"] = f.File, ["line"] = f.Line, ["guid"] = f.Guid, ["reason"] = f.Reason }.ToJsonString()));
        });
    }
}
