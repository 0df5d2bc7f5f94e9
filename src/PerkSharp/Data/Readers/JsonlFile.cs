using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// JSON Lines input/output shared by readers and generators: strict UTF-8, one object per line, errors as one-line
/// <see cref="PerkException"/>s naming file and line. Output keeps non-ASCII text as is (like json.dumps with
/// ensure_ascii=False) and is written atomically.
/// </summary>
public static class JsonlFile
{
    /// <summary>Writer options: compact, non-ASCII and &lt;&gt;&amp;' kept readable.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Parses every non-blank line of <paramref name="path"/> as a JSON object.</summary>
    public static IEnumerable<(int Line, JsonElement Root)> Read(string path)
    {
        if (!File.Exists(path)) throw new PerkException($"{path}: file not found");
        int lineNo = 0;
        foreach (var bytes in ReadLines(path))
        {
            lineNo++;
            string text;
            try { text = StrictUtf8.GetString(bytes); }
            catch (DecoderFallbackException) { throw new PerkException($"{path}:{lineNo}: invalid UTF-8 (files must be UTF-8 text)"); }
            if (lineNo == 1 && text.StartsWith('\uFEFF')) text = text[1..];     // a UTF-8 byte-order mark (Windows editors)
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonElement root;
            try { root = JsonDocument.Parse(text).RootElement; }
            catch (JsonException e) { throw new PerkException($"{path}:{lineNo}: invalid JSON ({FirstLine(e.Message)})"); }
            if (root.ValueKind != JsonValueKind.Object) throw new PerkException($"{path}:{lineNo}: expected a JSON object, found {root.ValueKind}");
            yield return (lineNo, root);
        }
    }

    /// <summary>Parses a whole file as one JSON value (the pretty-printed official sample files).</summary>
    public static JsonElement ReadDocument(string path)
    {
        if (!File.Exists(path)) throw new PerkException($"{path}: file not found");
        string text;
        try { text = StrictUtf8.GetString(File.ReadAllBytes(path)); }
        catch (DecoderFallbackException) { throw new PerkException($"{path}: invalid UTF-8 (files must be UTF-8 text)"); }
        try { return JsonDocument.Parse(text).RootElement; }
        catch (JsonException e) { throw new PerkException($"{path}: invalid JSON ({FirstLine(e.Message)})"); }
    }

    static IEnumerable<byte[]> ReadLines(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buf = new MemoryStream();
        int b;
        while ((b = fs.ReadByte()) >= 0)
        {
            if (b == '\n') { yield return Trim(buf); buf.SetLength(0); }
            else buf.WriteByte((byte)b);
        }
        if (buf.Length > 0) yield return Trim(buf);
    }

    static byte[] Trim(MemoryStream m)
    {
        var a = m.ToArray();
        return a.Length > 0 && a[^1] == '\r' ? a[..^1] : a;
    }

    static string FirstLine(string s) => s.Split('\n')[0].Trim();

    /// <summary>Serialises one object compactly (one JSONL line, without the newline).</summary>
    public static string Line(JsonObject obj) => obj.ToJsonString(Options);

    /// <summary>Writes lines atomically (temp file + rename), each followed by '\n'.</summary>
    public static void Write(string path, IEnumerable<string> lines) =>
        AtomicFile.Write(path, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            foreach (var l in lines) w.WriteLine(l);
        });

    // ---- field access with one-line errors ----

    public static string RequireString(JsonElement o, string name, string where)
    {
        if (!o.TryGetProperty(name, out var v)) throw new PerkException($"{where}: missing field \"{name}\"");
        return AsText(v, name, where);
    }

    /// <summary>String or number as text (numbers like Python's str() of a JSON number).</summary>
    public static string AsText(JsonElement v, string name, string where) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        _ => throw new PerkException($"{where}: field \"{name}\" must be a string, found {v.ValueKind}"),
    };

    public static string? OptionalString(JsonElement o, string name, string where) =>
        o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? AsText(v, name, where) : null;

    /// <summary>An array of strings; <paramref name="allowString"/> also accepts one string (split on '\n').</summary>
    public static List<string> StringList(JsonElement v, string name, string where, bool allowString = false)
    {
        if (allowString && v.ValueKind == JsonValueKind.String)
            return v.GetString()!.Split('\n').Where(s => s.Length > 0).ToList();
        if (v.ValueKind != JsonValueKind.Array) throw new PerkException($"{where}: field \"{name}\" must be an array of strings, found {v.ValueKind}");
        var list = new List<string>();
        int i = 0;
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) throw new PerkException($"{where}: {name}[{i}] must be a string, found {e.ValueKind}");
            list.Add(e.GetString()!);
            i++;
        }
        return list;
    }
}
