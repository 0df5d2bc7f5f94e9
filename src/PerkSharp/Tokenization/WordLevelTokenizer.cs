using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Tokenization;

/// <summary>
/// A word-level tokenizer stored as HF tokenizer.json (model type WordLevel, Whitespace pre-tokenizer
/// <c>\w+|[^\w\s]+</c>, [UNK] for unknown words) for tiny models trained from scratch. Own code because
/// Microsoft.ML.Tokenizers has no WordLevel model. Decoding joins tokens with spaces, as HF does without a decoder.
/// </summary>
public sealed class WordLevelTokenizer : ITokenizer
{
    static readonly Regex WhitespacePre = new(@"\w+|[^\w\s]+", RegexOptions.Compiled);
    static readonly Regex WhitespaceSplitPre = new(@"\S+", RegexOptions.Compiled);

    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<int, string> _idToToken = new();
    readonly List<AddedToken> _added;
    readonly HashSet<int> _specialIds;
    readonly Regex? _specialSplit;
    readonly Regex _pre;
    readonly bool _splitOnWhitespaceOnly;

    public string UnkToken { get; }
    public bool Lowercase { get; }
    public int VocabSize { get; }
    public int EosId { get; }
    public int PadId { get; }
    public int? BosId { get; }
    public string EosToken { get; }
    public string PadToken { get; }
    public int UnkId { get; }

    public WordLevelTokenizer(Dictionary<string, int> vocab, List<AddedToken> added, string unk, string eos, string pad,
                              string? bos = null, bool lowercase = false, bool whitespaceSplit = false, string source = "tokenizer.json")
    {
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        foreach (var a in added)
        {
            if (_vocab.TryGetValue(a.Content, out int e) && e != a.Id)
                throw new PerkException($"{source}: added token \"{a.Content}\" has id {a.Id} but the vocabulary gives it {e}");
            _vocab[a.Content] = a.Id;
        }
        foreach (var (tok, id) in _vocab)
        {
            if (id < 0) throw new PerkException($"{source}: token \"{tok}\" has negative id {id}");
            if (!_idToToken.TryAdd(id, tok)) throw new PerkException($"{source}: id {id} is used by \"{_idToToken[id]}\" and \"{tok}\"");
        }
        int Need(string t, string role) => _vocab.TryGetValue(t, out int id) ? id
            : throw new PerkException($"{source}: {role} token \"{t}\" is not in the vocabulary");
        UnkToken = unk; UnkId = Need(unk, "unk");
        EosToken = eos; EosId = Need(eos, "eos");
        PadToken = pad; PadId = Need(pad, "pad");
        BosId = bos is null ? null : Need(bos, "bos");
        _added = added.ToList();
        foreach (var (t, id) in new[] { (unk, UnkId), (eos, EosId), (pad, PadId) })
            if (_added.All(a => a.Id != id)) _added.Add(new AddedToken(id, t, true));
        if (bos != null && _added.All(a => a.Id != BosId)) _added.Add(new AddedToken(BosId!.Value, bos, true));
        _added.Sort((x, y) => x.Id.CompareTo(y.Id));
        _specialIds = _added.Where(a => a.Special).Select(a => a.Id).ToHashSet();
        _specialSplit = _added.Count == 0 ? null
            : new Regex("(" + string.Join("|", _added.Select(a => a.Content).OrderByDescending(s => s.Length).Select(Regex.Escape)) + ")", RegexOptions.Compiled);
        Lowercase = lowercase;
        _splitOnWhitespaceOnly = whitespaceSplit;
        _pre = whitespaceSplit ? WhitespaceSplitPre : WhitespacePre;
        VocabSize = _idToToken.Keys.Max() + 1;
    }

    /// <summary>
    /// Builds a vocabulary from <paramref name="texts"/>: the specials first (unk, pad, eos), then the most frequent
    /// words (ties in ordinal order, so the result is deterministic), at most <paramref name="maxVocab"/> in total.
    /// </summary>
    public static WordLevelTokenizer Build(IEnumerable<string> texts, int maxVocab, int minFrequency = 1, bool lowercase = false,
                                           string unk = "[UNK]", string pad = "[PAD]", string eos = "<|endoftext|>")
    {
        var specials = new[] { unk, pad, eos }.Distinct().ToArray();
        if (maxVocab < specials.Length) throw new PerkException($"vocabulary size {maxVocab} is smaller than the {specials.Length} special tokens");
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var special = new HashSet<string>(specials);
        var split = new Regex("(" + string.Join("|", specials.OrderByDescending(s => s.Length).Select(Regex.Escape)) + ")");
        foreach (var text in texts)
            foreach (var piece in split.Split(text))
            {
                if (special.Contains(piece)) continue;
                foreach (Match m in WhitespacePre.Matches(lowercase ? piece.ToLowerInvariant() : piece))
                    counts[m.Value] = counts.GetValueOrDefault(m.Value) + 1;
            }
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in specials) vocab[s] = vocab.Count;
        foreach (var (w, _) in counts.Where(kv => kv.Value >= minFrequency)
                     .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                     .Take(maxVocab - specials.Length))
            vocab[w] = vocab.Count;
        var added = specials.Select(s => new AddedToken(vocab[s], s, true)).ToList();
        return new WordLevelTokenizer(vocab, added, unk, eos, pad, lowercase: lowercase);
    }

    /// <summary>Loads a WordLevel tokenizer.json; eos/pad/bos come from the folder's configs (see TokenizerLoader).</summary>
    public static WordLevelTokenizer Load(JsonObject root, string path, string? eos, string? pad, string? bos)
    {
        var model = (JsonObject)root["model"]!;
        var vocab = HfTokenizerJson.ReadVocab(model["vocab"], path, "model.vocab");
        var added = HfTokenizerJson.ReadAdded(root, path);
        string unk = HfTokenizerJson.Str(model, "unk_token") ?? throw new PerkException($"{path}: WordLevel model needs \"unk_token\"");
        bool whitespaceSplit = root["pre_tokenizer"] switch
        {
            JsonObject o when HfTokenizerJson.Str(o, "type") == "Whitespace" => false,
            JsonObject o when HfTokenizerJson.Str(o, "type") == "WhitespaceSplit" => true,
            null => throw new PerkException($"{path}: WordLevel needs a Whitespace pre-tokenizer (got none)"),
            JsonObject o => throw new PerkException($"{path}: pre-tokenizer \"{HfTokenizerJson.Str(o, "type")}\" is not supported for WordLevel (expected Whitespace)"),
            _ => throw new PerkException($"{path}: \"pre_tokenizer\" must be an object"),
        };
        bool lower = root["normalizer"] switch
        {
            null => false,
            JsonObject o when HfTokenizerJson.Str(o, "type") == "Lowercase" => true,
            JsonObject o => throw new PerkException($"{path}: normalizer \"{HfTokenizerJson.Str(o, "type")}\" is not supported for WordLevel (expected none or Lowercase)"),
            _ => throw new PerkException($"{path}: \"normalizer\" must be an object or null"),
        };
        eos ??= added.FirstOrDefault(a => a.Content is "<|endoftext|>" or "[EOS]" or "</s>")?.Content
                ?? throw new PerkException($"{path}: no end-of-text token (set eos_token in tokenizer_config.json)");
        return new WordLevelTokenizer(vocab, added, unk, eos, pad ?? eos, bos, lower, whitespaceSplit, path);
    }

    public IReadOnlyList<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var piece in _specialSplit is null ? new[] { text } : _specialSplit.Split(text))
        {
            if (piece.Length == 0) continue;
            var added = _added.FirstOrDefault(a => a.Content == piece);
            if (added != null) { ids.Add(added.Id); continue; }
            foreach (Match m in _pre.Matches(Lowercase ? piece.ToLowerInvariant() : piece))
                ids.Add(_vocab.TryGetValue(m.Value, out int id) ? id : UnkId);
        }
        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecial = true)
    {
        var words = new List<string>();
        foreach (int id in ids)
        {
            if (id < 0) throw new PerkException($"token id {id} is negative");
            if (!_idToToken.TryGetValue(id, out var tok)) continue;
            if (skipSpecial && _specialIds.Contains(id)) continue;
            words.Add(tok);
        }
        return string.Join(" ", words);
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var vocab = new JsonObject();
        foreach (var (t, id) in _vocab.OrderBy(kv => kv.Value)) vocab[t] = id;
        var root = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null,
            ["added_tokens"] = new JsonArray(_added.Select(a => (JsonNode?)ByteLevelBpeWriter.AddedJson(a)).ToArray()),
            ["normalizer"] = Lowercase ? new JsonObject { ["type"] = "Lowercase" } : null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = _splitOnWhitespaceOnly ? "WhitespaceSplit" : "Whitespace" },
            ["post_processor"] = null,
            ["decoder"] = null,
            ["model"] = new JsonObject { ["type"] = "WordLevel", ["vocab"] = vocab, ["unk_token"] = UnkToken },
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer.json"), root.ToJsonString(ByteLevelBpeWriter.Indented));
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast", ["model_max_length"] = 1_000_000_000_000_000_000L,
            ["eos_token"] = EosToken, ["pad_token"] = PadToken, ["unk_token"] = UnkToken, ["add_bos_token"] = false,
            ["clean_up_tokenization_spaces"] = false,
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(ByteLevelBpeWriter.Indented));
        AtomicFile.WriteAllText(Path.Combine(directory, "special_tokens_map.json"),
            new JsonObject { ["eos_token"] = EosToken, ["pad_token"] = PadToken, ["unk_token"] = UnkToken }.ToJsonString(ByteLevelBpeWriter.Indented));
    }
}
