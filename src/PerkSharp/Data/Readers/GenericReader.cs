using System.Text.Json;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// Users' own data as JSONL: {"id"?, "context": [segments] | "document": "long text", "question", "answer",
/// "support"?: [facts] or "a\nb"}. A document is cut into segments of about <c>segmentTokens</c> GPT-2 tokens on
/// sentence boundaries (a single longer sentence stays whole).
/// </summary>
public static class GenericReader
{
    public static List<PerkExample> Read(string path, int segmentTokens = 256, string task = "custom")
    {
        if (segmentTokens < 8) throw new PerkException($"segment size {segmentTokens} tokens is too small (at least 8)");
        var list = new List<PerkExample>();
        foreach (var (line, o) in JsonlFile.Read(path))
        {
            string where = $"{path}:{line}";
            List<string> context;
            if (o.TryGetProperty("context", out var ctx) && ctx.ValueKind != JsonValueKind.Null)
                context = JsonlFile.StringList(ctx, "context", where).Where(s => s.Trim().Length > 0).ToList();
            else if (o.TryGetProperty("document", out var doc) && doc.ValueKind != JsonValueKind.Null)
                context = Segment(JsonlFile.AsText(doc, "document", where), segmentTokens);
            else throw new PerkException($"{where}: missing field \"context\" (array of segments) or \"document\" (text)");
            if (context.Count == 0) throw new PerkException($"{where}: empty context (expected at least one non-empty segment)");
            string id = JsonlFile.OptionalString(o, "id", where) ?? $"{Path.GetFileNameWithoutExtension(path)}_{list.Count}";
            List<string>? support = o.TryGetProperty("support", out var s) && s.ValueKind != JsonValueKind.Null
                ? JsonlFile.StringList(s, "support", where, allowString: true) : null;
            list.Add(new PerkExample(id, context, JsonlFile.RequireString(o, "question", where), JsonlFile.RequireString(o, "answer", where),
                support is { Count: > 0 } ? support : null, task));
        }
        if (list.Count == 0) throw new PerkException($"{path}: no examples (empty file)");
        return list;
    }

    /// <summary>Greedy packing of sentences (paragraph breaks respected) into segments of at most ~N tokens.</summary>
    public static List<string> Segment(string document, int segmentTokens)
    {
        var segments = new List<string>();
        var current = new List<string>();
        int used = 0;
        foreach (var para in document.Replace("\r\n", "\n").Split("\n\n"))
        foreach (var sentence in SentenceSplitter.Split(string.Join(" ", para.Split('\n', StringSplitOptions.TrimEntries))))
        {
            int t = Gpt2Tokens.Count(" " + sentence);
            if (current.Count > 0 && used + t > segmentTokens)
            {
                segments.Add(string.Join(" ", current));
                current.Clear(); used = 0;
            }
            current.Add(sentence);
            used += t;
        }
        if (current.Count > 0) segments.Add(string.Join(" ", current));
        return segments;
    }
}
