namespace PerkSharp.Data;

/// <summary>
/// One reasoning problem r = (K, q, y): a context split into segments (one natural document or fact each), a question,
/// its answer and optional support facts. Every reader and generator produces this record.
/// </summary>
/// <param name="Id">Stable id (guid in the official files).</param>
/// <param name="Context">The segments s_1..s_n of the context K.</param>
/// <param name="Question">q.</param>
/// <param name="Answer">y (bare answer).</param>
/// <param name="Support">Supporting facts; when non-empty the target is &lt;support&gt;…&lt;/support&gt;\n&lt;output&gt;y&lt;/output&gt;.</param>
/// <param name="Task">Task family and subset, e.g. "babilong/qa1", for summaries.</param>
/// <param name="Length">Context length bucket in tokens (e.g. 1024 for "1k"), 0 when unknown.</param>
/// <param name="Position">Gold position (pre|mid|post|rnd) for LongGorilla, else null.</param>
public sealed record PerkExample(
    string Id,
    IReadOnlyList<string> Context,
    string Question,
    string Answer,
    IReadOnlyList<string>? Support = null,
    string Task = "",
    int Length = 0,
    string? Position = null);
