using PerkSharp.IO;

namespace PerkSharp.Evaluation;

/// <summary>
/// The folder `perk eval` writes per data file — its settings, outputs.jsonl, failures.jsonl and metrics.json, row by
/// row so that a killed evaluation can resume (<see cref="EvalJournal"/>) — and the folder of such folders it fills
/// (RUN/eval, or --out with several data files). A replaced evaluation is cleared first, so it never mixes old and new
/// files.
/// </summary>
public static class EvalFolder
{
    public const string Outputs = "outputs.jsonl";
    public const string Metrics = "metrics.json";
    /// <summary>Rows that could not be evaluated, one JSON object each: file, line, guid, reason.</summary>
    public const string Failures = "failures.jsonl";
    /// <summary>What `perk eval` evaluated (checkpoint, data, method, config), written first; --resume compares it (<see cref="EvalJournal"/>).</summary>
    public const string Settings = "eval_settings.json";

    /// <summary>A row that could not be evaluated, where it is and why.</summary>
    public sealed record Failure(string File, string Line, string Guid, string Reason);

    /// <summary>One evaluation: its files, plus the report `perk report` writes beside them by default.</summary>
    public static readonly OutputKind Kind = new("evaluation", new[] { Outputs, Metrics, Failures, Settings }.Concat(ReportWriter.Files).ToArray());

    /// <summary>A folder of evaluations (subfolders), possibly with a report over them.</summary>
    public static readonly OutputKind SetKind = new("set of evaluations", ReportWriter.Files, Kind);
}
