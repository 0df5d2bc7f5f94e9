using PerkSharp.Models;
using PerkSharp.Runtime;

namespace PerkSharp.Tokenization;

/// <summary>
/// Loads the tokenizer of an HF model folder: tokenizer.json (BPE or WordLevel), else vocab.json + merges.txt
/// (byte-level BPE with the model type's pre-tokenizer), else for GPT-2 the packaged GPT-2 tokenizer.
/// Special tokens come from tokenizer_config.json / special_tokens_map.json / added tokens; eos falls back to the
/// config's eos_token_id and then to &lt;|endoftext|&gt;; pad falls back to the config's pad_token_id, then eos (GPT-2).
/// </summary>
public static class TokenizerLoader
{
    public static ITokenizer Load(string dir, ModelConfig config)
    {
        if (!Directory.Exists(dir)) throw new PerkException($"{dir}: model folder not found");
        var folder = TokenizerFolderConfig.Read(dir);
        string tj = Path.Combine(dir, "tokenizer.json"), vj = Path.Combine(dir, "vocab.json"), mt = Path.Combine(dir, "merges.txt");
        ITokenizer tok;
        if (File.Exists(tj))
        {
            var root = TokenizerFolderConfig.ReadObject(tj);
            string kind = HfTokenizerJson.ModelType(root, tj);
            if (kind == "WordLevel")
            {
                tok = WordLevelTokenizer.Load(root, tj, folder.Eos, folder.Pad, folder.Bos);
            }
            else if (kind == "BPE")
            {
                var (vocab, merges, added, pattern, nfc) = HfTokenizerJson.ReadBpe(root, tj);
                tok = Bpe(config, folder, vocab, merges, added, pattern ?? ByteLevel.PatternFor(config.ModelType), nfc, tj,
                          HfTokenizerJson.TemplateBos(root["post_processor"]));
            }
            else throw new PerkException($"{tj}: tokenizer model type \"{kind}\" is not supported (expected BPE or WordLevel)");
        }
        else if (File.Exists(vj) && File.Exists(mt))
        {
            var vocab = HfTokenizerJson.ReadVocab(TokenizerFolderConfig.ReadObject(vj), vj, "vocabulary");
            var merges = HfTokenizerJson.ReadMergesTxt(mt);
            tok = Bpe(config, folder, vocab, merges, new List<AddedToken>(folder.AddedTokens), ByteLevel.PatternFor(config.ModelType),
                      config.ModelType == "qwen2", vj);
        }
        else if (File.Exists(vj) != File.Exists(mt))
            throw new PerkException($"{dir}: found {(File.Exists(vj) ? "vocab.json without merges.txt" : "merges.txt without vocab.json")}; a BPE tokenizer needs both");
        else if (config.IsGpt2 && config.VocabSize >= Gpt2Tokenizer.EndOfTextId + 1)
            tok = new Gpt2Tokenizer();
        else
            throw new PerkException($"{dir}: no tokenizer files (expected tokenizer.json, or vocab.json + merges.txt)");

        if (tok.VocabSize > config.VocabSize)
            throw new PerkException($"{dir}: the tokenizer has ids up to {tok.VocabSize - 1} but config.json vocab_size is {config.VocabSize}");
        return tok;
    }

    static ByteLevelBpeTokenizer Bpe(ModelConfig config, TokenizerFolderConfig folder, Dictionary<string, int> vocab,
                                     List<(string, string)> merges, List<AddedToken> added, string pattern, bool nfc, string source,
                                     string? templateBos = null)
    {
        // added_tokens_decoder of tokenizer_config.json also lists tokenizer.json's added tokens; keep one per id.
        foreach (var a in folder.AddedTokens) if (added.All(x => x.Id != a.Id)) added.Add(a);
        var byId = vocab.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.First().Key);
        foreach (var a in added) byId[a.Id] = a.Content;
        string? TokenFor(int? id) => id is int i && byId.TryGetValue(i, out var s) ? s : null;
        bool Known(string t) => vocab.ContainsKey(t) || added.Any(a => a.Content == t);

        string eos = folder.Eos ?? TokenFor(config.EosTokenId)
                     ?? (Known("<|endoftext|>") ? "<|endoftext|>" : throw new PerkException(
                         $"{source}: no end-of-text token (no eos_token in tokenizer_config.json, no eos_token_id in config.json, no <|endoftext|>)"));
        string pad = folder.Pad ?? TokenFor(config.PadTokenId) ?? eos;
        // BOS is added when tokenizer_config says add_bos_token, or when tokenizer.json's template prepends it (Llama 3).
        bool addBos = folder.AddBos || templateBos != null;
        string? bos = folder.Bos ?? templateBos ?? (addBos ? TokenFor(config.BosTokenId) : null);
        if (templateBos != null && bos != templateBos)
            throw new PerkException($"{source}: post_processor prepends \"{templateBos}\" but bos_token is \"{bos}\"");
        if (addBos && bos is null) throw new PerkException($"{source}: add_bos_token is true but no bos_token is defined");
        // Specials named in the configs but missing from added tokens are still specials (GPT-2's vocab.json case).
        foreach (var s in new[] { eos, pad, bos }.Concat(folder.AdditionalSpecial))
            if (s != null && added.All(a => a.Content != s) && vocab.TryGetValue(s, out int id)) added.Add(new AddedToken(id, s, true));
        return new ByteLevelBpeTokenizer(new BpeSpec(config.ModelType, vocab, merges, added, pattern, nfc, eos, pad, bos, addBos), source);
    }
}
