using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using PerkSharp.Runtime;

namespace PerkSharp.Tokenization;

/// <summary>The parts of a byte-level BPE tokenizer, as read from vocab.json + merges.txt or tokenizer.json.</summary>
public sealed record BpeSpec(
    string ModelType,                              // gpt2 | qwen2 | llama (file layout and defaults on save)
    Dictionary<string, int> Vocab,                 // byte-level token text -> id (added tokens may be absent)
    List<(string Left, string Right)> Merges,      // in priority order
    List<AddedToken> AddedTokens,
    string Pattern,                                // pre-tokenizer split regex
    bool Nfc,                                      // NFC normalizer (Qwen2)
    string Eos, string Pad, string? Bos, bool AddBos);

/// <summary>
/// GPT-2 / Qwen2 / Llama 3 byte-level BPE on top of Microsoft.ML.Tokenizers' BpeTokenizer (ByteLevel, regex
/// pre-tokenizer with the model's pattern, added tokens matched whole inside the text).
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITokenizer
{
    readonly BpeTokenizer _bpe;
    readonly Dictionary<int, string> _idToToken = new();
    readonly HashSet<int> _specialIds = new();

    public BpeSpec Spec { get; }
    public int VocabSize { get; }
    public int EosId { get; }
    public int PadId { get; }
    public int? BosId { get; }
    public string EosToken => Spec.Eos;
    public string PadToken => Spec.Pad;

    public ByteLevelBpeTokenizer(BpeSpec spec, string source)
    {
        Spec = spec;
        var vocab = new Dictionary<string, int>(spec.Vocab, StringComparer.Ordinal);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var a in spec.AddedTokens)
        {
            if (vocab.TryGetValue(a.Content, out int existing) && existing != a.Id)
                throw new PerkException($"{source}: added token \"{a.Content}\" has id {a.Id} but the vocabulary gives it {existing}");
            vocab[a.Content] = a.Id;
            added[a.Content] = a.Id;
            if (a.Special) _specialIds.Add(a.Id);
        }
        foreach (var (tok, id) in vocab)
        {
            if (id < 0) throw new PerkException($"{source}: token \"{tok}\" has negative id {id}");
            if (!_idToToken.TryAdd(id, tok)) throw new PerkException($"{source}: id {id} is used by \"{_idToToken[id]}\" and \"{tok}\"");
        }
        VocabSize = vocab.Count == 0 ? 0 : _idToToken.Keys.Max() + 1;
        EosId = Id(spec.Eos, "eos", source, vocab);
        PadId = Id(spec.Pad, "pad", source, vocab);
        BosId = spec.Bos is null ? null : Id(spec.Bos, "bos", source, vocab);
        foreach (var s in new[] { spec.Eos, spec.Pad, spec.Bos })
            if (s != null) { added.TryAdd(s, vocab[s]); _specialIds.Add(vocab[s]); }

        Regex regex;
        try { regex = new Regex(spec.Pattern, RegexOptions.Compiled, TimeSpan.FromSeconds(5)); }
        catch (ArgumentException e) { throw new PerkException($"{source}: pre-tokenizer regex is not supported ({e.Message.Split('\n')[0]})"); }
        foreach (var (l, r) in spec.Merges)
            if (l.Contains(' ') || r.Contains(' ') || l.Length == 0 || r.Length == 0)
                throw new PerkException($"{source}: merge \"{l} {r}\" is not a pair of byte-level tokens");
        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
            {
                Merges = spec.Merges.Select(m => m.Left + " " + m.Right).ToList(),
                ByteLevel = true,
                SpecialTokens = added,
                PreTokenizer = new RegexPreTokenizer(regex, added),
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new PerkException($"{source}: cannot build the BPE tokenizer ({e.Message.Split('\n')[0]})");
        }
    }

    static int Id(string token, string role, string source, Dictionary<string, int> vocab) =>
        vocab.TryGetValue(token, out int id) ? id
            : throw new PerkException($"{source}: {role} token \"{token}\" is not in the vocabulary");

    public IReadOnlyList<int> Encode(string text)
    {
        if (Spec.Nfc) text = text.Normalize(NormalizationForm.FormC);
        var ids = _bpe.EncodeToIds(text);
        if (Spec.AddBos && BosId is int b) return new[] { b }.Concat(ids).ToList();
        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecial = true)
    {
        var kept = new List<int>();
        foreach (int id in ids)
        {
            if (id < 0) throw new PerkException($"token id {id} is negative");
            if (!_idToToken.ContainsKey(id)) continue;            // e.g. padding rows of a larger model vocabulary
            if (skipSpecial && _specialIds.Contains(id)) continue;
            kept.Add(id);
        }
        return _bpe.Decode(kept, considerSpecialTokens: true);
    }

    /// <summary>The token text of <paramref name="id"/> (byte-level spelling), or null.</summary>
    public string? TokenOf(int id) => _idToToken.GetValueOrDefault(id);

    public bool IsSpecial(int id) => _specialIds.Contains(id);

    public void Save(string directory) => ByteLevelBpeWriter.Write(directory, this);
}
