using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Runtime;

namespace PerkSharp.Tokenization;

/// <summary>An added token as HF stores it (tokenizer.json "added_tokens" or tokenizer_config "added_tokens_decoder").</summary>
public sealed record AddedToken(int Id, string Content, bool Special);

/// <summary>
/// The special-token settings of an HF tokenizer folder: tokenizer_config.json and special_tokens_map.json
/// (eos/bos/pad/unk as a string or {"content": ...}, add_bos_token, added_tokens_decoder).
/// </summary>
public sealed class TokenizerFolderConfig
{
    public string? Eos { get; private set; }
    public string? Bos { get; private set; }
    public string? Pad { get; private set; }
    public string? Unk { get; private set; }
    public bool AddBos { get; private set; }
    public List<AddedToken> AddedTokens { get; } = new();
    public List<string> AdditionalSpecial { get; } = new();

    public static TokenizerFolderConfig Read(string dir)
    {
        var c = new TokenizerFolderConfig();
        // special_tokens_map.json first, tokenizer_config.json overrides (transformers reads both; the config wins).
        foreach (var name in new[] { "special_tokens_map.json", "tokenizer_config.json" })
        {
            string path = Path.Combine(dir, name);
            if (!File.Exists(path)) continue;
            var o = ReadObject(path);
            c.Eos = Token(o, "eos_token", path) ?? c.Eos;
            c.Bos = Token(o, "bos_token", path) ?? c.Bos;
            c.Pad = Token(o, "pad_token", path) ?? c.Pad;
            c.Unk = Token(o, "unk_token", path) ?? c.Unk;
            if (o["add_bos_token"] is JsonValue ab)
                c.AddBos = ab.TryGetValue<bool>(out var b) ? b : throw new PerkException($"{path}: \"add_bos_token\" must be true or false");
            if (o["additional_special_tokens"] is JsonArray extra)
                foreach (var t in extra) if (TokenText(t, "additional_special_tokens", path) is string s) c.AdditionalSpecial.Add(s);
            if (o["added_tokens_decoder"] is JsonObject dec)
                foreach (var (key, node) in dec)
                {
                    if (!int.TryParse(key, out int id) || id < 0)
                        throw new PerkException($"{path}: added_tokens_decoder key \"{key}\" is not a token id");
                    string content = TokenText(node, $"added_tokens_decoder.{key}", path)
                                     ?? throw new PerkException($"{path}: added_tokens_decoder.{key} has no \"content\"");
                    bool special = node is JsonObject no && no["special"] is JsonValue sv && sv.TryGetValue<bool>(out var sp) && sp;
                    c.AddedTokens.Add(new AddedToken(id, content, special));
                }
        }
        return c;
    }

    internal static JsonObject ReadObject(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                   ?? throw new PerkException($"{path}: expected a JSON object");
        }
        catch (JsonException e) { throw new PerkException($"{path}: invalid JSON ({e.Message.Split('\n')[0]})"); }
    }

    static string? Token(JsonObject o, string key, string path) => TokenText(o[key], key, path);

    static string? TokenText(JsonNode? n, string key, string path) => n switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonObject obj when obj["content"] is JsonValue cv && cv.TryGetValue<string>(out var s) => s,
        _ => throw new PerkException($"{path}: \"{key}\" must be a string or an object with \"content\" (got {n.ToJsonString()})"),
    };
}
