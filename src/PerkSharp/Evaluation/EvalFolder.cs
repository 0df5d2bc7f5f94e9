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

    /// <summary>One evaluation: its two files, plus the report `perk report` writes beside them by default.</summary>
    public static readonly OutputKind Kind = new("evaluation", new[] { Outputs, Metrics }.Concat(ReportWriter.Files).ToArray());

    /// <summary>A folder of evaluations (subfolders), possibly with a report over them.</summary>
    public static readonly OutputKind SetKind = new("set of evaluations", ReportWriter.Files, Kind);

    /// <summary>Writes <paramref name="records"/> as an evaluation folder; an existing one is replaced only with force.</summary>
    public static void Write(string dir, IReadOnlyList<EvalRecord> records, bool force)
    {
        OutputGuard.Folder(dir, Kind, force);
        AtomicFile.WriteDirectory(dir, tmp =>
        {
            EvalRecord.WriteAll(Path.Combine(tmp, Outputs), records);
            EvalSummary.Write(Path.Combine(tmp, Metrics), records);
        });
    }
}
