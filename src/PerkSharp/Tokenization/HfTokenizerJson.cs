using System.Text.Json.Nodes;
using PerkSharp.Runtime;

namespace PerkSharp.Tokenization;

/// <summary>
/// Reads HF tokenizer files into plain parts. Own parser because Microsoft.ML.Tokenizers 2.0.1 has no public
/// tokenizer.json loader for BPE (docs/DESIGN.md); vocab.json / merges.txt are parsed here too so every error names the
/// file and line.
/// </summary>
public static class HfTokenizerJson
{
    /// <summary>The model type of a tokenizer.json ("BPE", "WordLevel", ...).</summary>
    public static string ModelType(JsonObject root, string path) =>
        root["model"] is JsonObject m && m["type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : root["model"] is JsonObject m2 && m2["merges"] is not null ? "BPE"    // older files omit "type"
            : throw new PerkException($"{path}: missing \"model.type\"");

    /// <summary>The BPE parts of a tokenizer.json: vocab, merges (string or pair form), added tokens, split regex, NFC.</summary>
    public static (Dictionary<string, int> Vocab, List<(string, string)> Merges, List<AddedToken> Added, string? Pattern, bool Nfc)
        ReadBpe(JsonObject root, string path)
    {
        var model = root["model"] as JsonObject ?? throw new PerkException($"{path}: missing \"model\"");
        if (model["byte_fallback"] is JsonValue bf && bf.TryGetValue<bool>(out var b) && b)
            throw new PerkException($"{path}: BPE with byte_fallback (SentencePiece-style) is not supported; expected byte-level BPE");
        var vocab = ReadVocab(model["vocab"], path, "model.vocab");
        var merges = new List<(string, string)>();
        if (model["merges"] is JsonArray ma)
        {
            int i = 0;
            foreach (var m in ma)
            {
                merges.Add(m switch
                {
                    JsonValue v when v.TryGetValue<string>(out var s) => SplitMerge(s, path, $"model.merges[{i}]"),
                    JsonArray p when p.Count == 2 && p[0] is JsonValue l && l.TryGetValue<string>(out var ls)
                                     && p[1] is JsonValue r && r.TryGetValue<string>(out var rs) => (ls, rs),
                    _ => throw new PerkException($"{path}: model.merges[{i}] must be \"a b\" or [\"a\", \"b\"] (got {m?.ToJsonString()})"),
                });
                i++;
            }
        }
        else if (model["merges"] is not null) throw new PerkException($"{path}: \"model.merges\" must be an array");
        return (vocab, merges, ReadAdded(root, path), FindPattern(root["pre_tokenizer"], path), IsNfc(root["normalizer"], path));
    }

    public static List<AddedToken> ReadAdded(JsonObject root, string path)
    {
        var list = new List<AddedToken>();
        if (root["added_tokens"] is not JsonArray arr) return list;
        int i = 0;
        foreach (var n in arr)
        {
            if (n is not JsonObject o || o["id"] is not JsonValue idv || !idv.TryGetValue<int>(out int id) || id < 0
                || o["content"] is not JsonValue cv || !cv.TryGetValue<string>(out var content))
                throw new PerkException($"{path}: added_tokens[{i}] needs a non-negative \"id\" and a string \"content\"");
            bool special = o["special"] is JsonValue sv && sv.TryGetValue<bool>(out var s) && s;
            list.Add(new AddedToken(id, content, special));
            i++;
        }
        return list;
    }

    /// <summary>A token -> id object (vocab.json or model.vocab) with non-negative integer ids.</summary>
    public static Dictionary<string, int> ReadVocab(JsonNode? node, string path, string what)
    {
        if (node is not JsonObject o) throw new PerkException($"{path}: {what} must be an object of token -> id");
        var v = new Dictionary<string, int>(o.Count, StringComparer.Ordinal);
        foreach (var (tok, idn) in o)
        {
            if (idn is not JsonValue jv || !jv.TryGetValue<int>(out int id) || id < 0)
                throw new PerkException($"{path}: {what} entry \"{tok}\" must map to a non-negative integer id (got {idn?.ToJsonString()})");
            v[tok] = id;
        }
        return v;
    }

    /// <summary>merges.txt: an optional "#version" first line, then one "left right" pair per line.</summary>
    public static List<(string, string)> ReadMergesTxt(string path)
    {
        var merges = new List<(string, string)>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            string line = raw.TrimEnd('\r');
            if ((lineNo == 1 && line.StartsWith("#version")) || line.Trim().Length == 0) continue;
            merges.Add(SplitMerge(line, path, $"line {lineNo}"));
        }
        return merges;
    }

    static (string, string) SplitMerge(string s, string path, string where)
    {
        var parts = s.Split(' ');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            throw new PerkException($"{path}: {where}: a merge must be two tokens separated by one space (got \"{s}\")");
        return (parts[0], parts[1]);
    }

    /// <summary>The split regex of the pre-tokenizer: a Split with a Regex pattern, or GPT-2's when ByteLevel uses its regex.</summary>
    static string? FindPattern(JsonNode? pre, string path)
    {
        switch (pre)
        {
            case null: return null;
            case JsonObject o when Str(o, "type") == "Sequence" && o["pretokenizers"] is JsonArray seq:
                string? found = null;
                foreach (var p in seq) found ??= FindPattern(p, path);
                return found;
            case JsonObject o when Str(o, "type") == "Split":
                if (o["pattern"] is JsonObject pat && pat["Regex"] is JsonValue rv && rv.TryGetValue<string>(out var regex)) return regex;
                throw new PerkException($"{path}: Split pre-tokenizer without a Regex pattern is not supported");
            case JsonObject o when Str(o, "type") == "ByteLevel":
                return o["use_regex"] is JsonValue u && u.TryGetValue<bool>(out var use) && !use ? null : ByteLevel.Gpt2Pattern;
            case JsonObject o:
                throw new PerkException($"{path}: pre-tokenizer type \"{Str(o, "type")}\" is not supported for byte-level BPE");
            default:
                throw new PerkException($"{path}: \"pre_tokenizer\" must be an object");
        }
    }

    static bool IsNfc(JsonNode? norm, string path) => norm switch
    {
        null => false,
        JsonObject o when Str(o, "type") == "NFC" => true,
        JsonObject o when Str(o, "type") == "Sequence" && o["normalizers"] is JsonArray a => a.Any(n => IsNfc(n, path)),
        JsonObject o => throw new PerkException($"{path}: normalizer \"{Str(o, "type")}\" is not supported (expected none or NFC)"),
        _ => throw new PerkException($"{path}: \"normalizer\" must be an object or null"),
    };

    /// <summary>
    /// The token a TemplateProcessing post-processor puts before every single sequence (Llama 3's
    /// &lt;|begin_of_text|&gt;), or null. HF fast tokenizers add it on encode even without add_bos_token.
    /// </summary>
    public static string? TemplateBos(JsonNode? post) => post switch
    {
        JsonObject o when Str(o, "type") == "Sequence" && o["processors"] is JsonArray a => a.Select(TemplateBos).FirstOrDefault(x => x != null),
        JsonObject o when Str(o, "type") == "TemplateProcessing" && o["single"] is JsonArray single && single.Count > 0
                          && single[0] is JsonObject first && first["SpecialToken"] is JsonObject st => Str(st, "id"),
        _ => null,
    };

    internal static string? Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
