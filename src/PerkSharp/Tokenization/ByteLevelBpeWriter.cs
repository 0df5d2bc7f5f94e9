using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.IO;

namespace PerkSharp.Tokenization;

/// <summary>
/// Writes a byte-level BPE tokenizer in the layouts HF transformers loads: vocab.json + merges.txt (GPT2Tokenizer /
/// Qwen2Tokenizer), tokenizer.json (fast tokenizers, needed for Llama 3), tokenizer_config.json and
/// special_tokens_map.json. Each file is written atomically.
/// </summary>
internal static class ByteLevelBpeWriter
{
    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string dir, ByteLevelBpeTokenizer t)
    {
        var s = t.Spec;
        Directory.CreateDirectory(dir);
        var vocab = new JsonObject();
        foreach (var (tok, id) in s.Vocab.OrderBy(kv => kv.Value)) vocab[tok] = id;
        AtomicFile.WriteAllText(Path.Combine(dir, "vocab.json"), vocab.ToJsonString(Indented));
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (l, r) in s.Merges) merges.Append(l).Append(' ').Append(r).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(dir, "merges.txt"), merges.ToString());

        var added = AllAdded(t);
        AtomicFile.WriteAllText(Path.Combine(dir, "tokenizer.json"), TokenizerJson(s, added).ToJsonString(Indented));
        AtomicFile.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), TokenizerConfig(s, added).ToJsonString(Indented));
        AtomicFile.WriteAllText(Path.Combine(dir, "special_tokens_map.json"), SpecialMap(s).ToJsonString(Indented));
    }

    /// <summary>Added tokens plus eos/pad/bos (marked special), sorted by id, without duplicates.</summary>
    static List<AddedToken> AllAdded(ByteLevelBpeTokenizer t)
    {
        var all = t.Spec.AddedTokens.ToDictionary(a => a.Id);
        foreach (var (tok, id) in new[] { (t.Spec.Eos, t.EosId), (t.Spec.Pad, t.PadId) }
                     .Concat(t.Spec.Bos != null ? new[] { (t.Spec.Bos, t.BosId!.Value) } : Array.Empty<(string, int)>()))
            all.TryAdd(id, new AddedToken(id, tok, true));
        return all.Values.OrderBy(a => a.Id).ToList();
    }

    internal static JsonObject AddedJson(AddedToken a) => new()
    {
        ["id"] = a.Id, ["content"] = a.Content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
        ["normalized"] = false, ["special"] = a.Special,
    };

    static JsonObject TokenizerJson(BpeSpec s, List<AddedToken> added)
    {
        JsonNode pre = s.ModelType == "gpt2" && s.Pattern == ByteLevel.Gpt2Pattern
            ? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true }
            : new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = s.Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false }),
            };
        var vocab = new JsonObject();
        foreach (var (tok, id) in s.Vocab.OrderBy(kv => kv.Value)) vocab[tok] = id;
        JsonNode? post = s.AddBos && s.Bos != null
            ? new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = s.Bos, ["type_id"] = 0 } },
                                           new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["pair"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = s.Bos, ["type_id"] = 0 } },
                                         new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                                         new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = s.Bos, ["type_id"] = 1 } },
                                         new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
                ["special_tokens"] = new JsonObject { [s.Bos] = new JsonObject { ["id"] = s.Bos, ["ids"] = new JsonArray(added.First(a => a.Content == s.Bos).Id), ["tokens"] = new JsonArray(s.Bos) } },
            }
            : new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        return new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null,
            ["added_tokens"] = new JsonArray(added.Select(a => (JsonNode?)AddedJson(a)).ToArray()),
            ["normalizer"] = s.Nfc ? new JsonObject { ["type"] = "NFC" } : null,
            ["pre_tokenizer"] = pre,
            ["post_processor"] = post,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(s.Merges.Select(m => (JsonNode?)new JsonArray(m.Left, m.Right)).ToArray()),
            },
        };
    }

    static JsonObject TokenizerConfig(BpeSpec s, List<AddedToken> added)
    {
        var dec = new JsonObject();
        foreach (var a in added)
        {
            var o = AddedJson(a); o.Remove("id");
            dec[a.Id.ToString()] = o;
        }
        var c = new JsonObject
        {
            ["tokenizer_class"] = s.ModelType switch { "gpt2" => "GPT2Tokenizer", "qwen2" => "Qwen2Tokenizer", _ => "PreTrainedTokenizerFast" },
            ["add_prefix_space"] = false,
            ["errors"] = "replace",
            ["clean_up_tokenization_spaces"] = false,
            ["model_max_length"] = 1_000_000_000_000_000_000L,
            ["add_bos_token"] = s.AddBos,
            ["eos_token"] = s.Eos,
            ["pad_token"] = s.Pad,
            ["added_tokens_decoder"] = dec,
        };
        if (s.Bos != null) c["bos_token"] = s.Bos;
        if (s.ModelType == "gpt2") { c["bos_token"] = s.Bos ?? s.Eos; c["unk_token"] = s.Eos; }
        return c;
    }

    static JsonObject SpecialMap(BpeSpec s)
    {
        var o = new JsonObject { ["eos_token"] = s.Eos, ["pad_token"] = s.Pad };
        if (s.Bos != null) o["bos_token"] = s.Bos;
        if (s.ModelType == "gpt2") { o["bos_token"] = s.Bos ?? s.Eos; o["unk_token"] = s.Eos; }
        return o;
    }
}
