using System.Text.Json;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// Users' own data as JSONL: {"id"?, "context": [segments] | "document": "long text", "question", "answer",
/// "support"?: [facts] or "a\nb"}. A document is cut into segments of at most <c>segmentTokens</c> GPT-2 tokens on
/// sentence boundaries, and a longer sentence into token-sized word windows (<see cref="Segment"/>).
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

    /// <summary>
    /// Segments of at most <paramref name="segmentTokens"/> tokens (by <paramref name="count"/>, GPT-2 tokens when
    /// null): sentences (paragraph breaks respected) are packed greedily, and any run longer than the size — a
    /// sentence, a line without sentence ends, one endless word — is cut into word windows (character windows for a
    /// single over-long word), so segmenting never fails and every segment fits.
    /// </summary>
    public static List<string> Segment(string document, int segmentTokens, Func<string, int>? count = null)
    {
        count ??= Gpt2Tokens.Count;
        int Size(string text) => count(" " + text);                       // a segment is encoded after a space
        var segments = new List<string>();
        var current = new List<string>();
        int used = 0;
        void Flush() { if (current.Count > 0) segments.Add(string.Join(" ", current)); current.Clear(); used = 0; }
        foreach (var para in document.Replace("\r\n", "\n").Split("\n\n"))
        foreach (var sentence in SentenceSplitter.Split(string.Join(" ", para.Split('\n', StringSplitOptions.TrimEntries))))
        foreach (var piece in Size(sentence) <= segmentTokens ? new List<string> { sentence } : Windows(sentence, segmentTokens, Size))
        {
            int t = Size(piece);
            if (current.Count > 0 && used + t > segmentTokens) Flush();
            current.Add(piece);
            used += t;
        }
        Flush();
        // Token counts of joined sentences can differ from their sum by a token: re-cut the rare segment that grew.
        return segments.SelectMany(g => Size(g) <= segmentTokens ? new List<string> { g } : Windows(g, segmentTokens, Size)).ToList();
    }

    /// <summary>Greedy word windows of at most <paramref name="n"/> tokens; a word longer than that is cut by characters.</summary>
    static List<string> Windows(string text, int n, Func<string, int> size)
    {
        var list = new List<string>();
        string cur = "";
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string joined = cur.Length == 0 ? word : cur + " " + word;
            if (size(joined) <= n) { cur = joined; continue; }
            if (cur.Length > 0) list.Add(cur);
            cur = word;
            while (size(cur) > n)
            {
                int k = LongestPrefix(cur, n, size);
                list.Add(cur[..k]);
                cur = cur[k..];
            }
        }
        if (cur.Length > 0) list.Add(cur);
        return list;
    }

    /// <summary>The longest prefix length (at least one character, never inside a surrogate pair) that fits in n tokens.</summary>
    static int LongestPrefix(string word, int n, Func<string, int> size)
    {
        int lo = 1, hi = word.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (size(word[..mid]) <= n) lo = mid; else hi = mid - 1;
        }
        if (lo > 1 && char.IsHighSurrogate(word[lo - 1])) lo--;
        return lo;
    }
}
