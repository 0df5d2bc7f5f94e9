using System.Text;
using System.Text.Json.Nodes;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using static PerkSharp.Tests.Tokenization.TokenizerTestUtil;

namespace PerkSharp.Tests.Tokenization;

/// <summary>The independent checker's byte-level 257 folder, Qwen2 BPE from a toy tokenizer.json, and file errors.</summary>
public class ByteLevelTokenizerTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("qwen2")]
    [InlineData("llama")]
    public void ByteLevel257FolderEncodesEveryByteAsOneToken(string modelType)
    {
        string dir = TempDir("bl257");
        WriteByteLevel257(dir);
        var tok = TokenizerLoader.Load(dir, Config(modelType, 257));
        string text = "Hello, wörld! 😀\n\t12 's";
        var ids = tok.Encode(text);
        Assert.Equal(Encoding.UTF8.GetBytes(text).Select(b => (int)b), ids);
        Assert.Equal(text, tok.Decode(ids));
        Assert.Equal((256, 256, 257), (tok.EosId, tok.PadId, tok.VocabSize));
        Assert.Equal("<|endoftext|>", tok.EosToken);
        Assert.Equal(new[] { 65, 256, 66 }, tok.Encode("A<|endoftext|>B"));
        Assert.Equal("AB", tok.Decode(new[] { 65, 256, 66 }));
        Assert.Equal("A<|endoftext|>B", tok.Decode(new[] { 65, 256, 66 }, skipSpecial: false));
    }

    [Fact]
    public void InvalidUtf8FromGeneratedIdsDecodesWithReplacementCharacters()
    {
        // Random models emit arbitrary byte ids; HF decodes them with errors="replace" (one U+FFFD per maximal
        // invalid subpart), and special tokens are removed before the bytes are joined.
        string dir = TempDir("bl257utf");
        WriteByteLevel257(dir);
        var tok = TokenizerLoader.Load(dir, Config("gpt2", 257));
        Assert.Equal("\uFFFDA\u20AC\uFFFD", tok.Decode(new[] { 0x80, 65, 0xE2, 0x82, 0xAC, 0xF0, 0x9F }));
        Assert.Equal("A\u20AC", tok.Decode(new[] { 65, 0xE2, 256, 0x82, 0xAC }));
        Assert.Equal("A\uFFFD<|endoftext|>\uFFFD\uFFFD", tok.Decode(new[] { 65, 0xE2, 256, 0x82, 0xAC }, skipSpecial: false));
    }

    [Fact]
    public void ByteLevel257SaveAndReloadKeepsIds()
    {
        string dir = TempDir("bl257rt"), outDir = TempDir("bl257rt-out");
        WriteByteLevel257(dir);
        var tok = TokenizerLoader.Load(dir, Config("qwen2", 257));
        tok.Save(outDir);
        foreach (var f in new[] { "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        var again = TokenizerLoader.Load(outDir, Config("qwen2", 257));
        Assert.Equal(tok.Encode("xyz<|endoftext|> ü"), again.Encode("xyz<|endoftext|> ü"));
        Assert.Equal((256, 256), (again.EosId, again.PadId));
    }

    /// <summary>A toy Qwen2 tokenizer.json: bytes 0..255, merges He/ll/Hell/Hello/Ġw/or/ld/Ġwor/Ġworld/1 2, added specials.</summary>
    static JsonObject ToyQwen2(bool pairMerges)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteChar(b)] = b;
        string[][] merges = { new[] { "H", "e" }, new[] { "l", "l" }, new[] { "He", "ll" }, new[] { "Hell", "o" }, new[] { "Ġ", "w" },
                              new[] { "o", "r" }, new[] { "l", "d" }, new[] { "Ġw", "or" }, new[] { "Ġwor", "ld" }, new[] { "1", "2" } };
        int next = 256;
        foreach (var m in merges) vocab[m[0] + m[1]] = next++;     // He=256 ll=257 Hell=258 Hello=259 Ġw=260 or=261 ld=262 Ġwor=263 Ġworld=264 12=265
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 266, ["content"] = "<|endoftext|>", ["special"] = true },
                new JsonObject { ["id"] = 267, ["content"] = "<|im_start|>", ["special"] = true },
                new JsonObject { ["id"] = 268, ["content"] = "<|im_end|>", ["special"] = true }),
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = ByteLevel.Qwen2Pattern }, ["behavior"] = "Isolated" },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["vocab"] = vocab,
                ["merges"] = new JsonArray(merges.Select(m => pairMerges ? (JsonNode?)new JsonArray(m[0], m[1]) : m[0] + " " + m[1]).ToArray()),
            },
        };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Qwen2BpeFromToyTokenizerJson(bool pairMerges)
    {
        string dir = TempDir("qwen-toy");
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), ToyQwen2(pairMerges).ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
            "{\"eos_token\":\"<|im_end|>\",\"pad_token\":\"<|endoftext|>\",\"bos_token\":null,\"add_bos_token\":false}");
        var tok = TokenizerLoader.Load(dir, Config("qwen2", 272));
        Assert.Equal(new[] { 259, 264, 268 }, tok.Encode("Hello world<|im_end|>"));
        // Qwen2 splits digits one by one, so the merge "1 2" never applies; GPT-2's pattern would give 265.
        Assert.Equal(new[] { (int)'1', (int)'2' }, tok.Encode("12"));
        Assert.Equal((268, 266, 269), (tok.EosId, tok.PadId, tok.VocabSize));
        Assert.Equal("<|im_start|>Hello world<|endoftext|>", tok.Decode(new[] { 267, 259, 264, 266 }, skipSpecial: false));
        Assert.Equal("Hello world", tok.Decode(new[] { 267, 259, 264, 266 }));
        // NFC: a decomposed "e + combining acute" encodes like the composed "é" (bytes C3 A9).
        Assert.Equal(new[] { 0xC3, 0xA9 }, tok.Encode("e\u0301"));
    }

    [Fact]
    public void LlamaAddsBosWhenTokenizerConfigSaysSo()
    {
        string dir = TempDir("llama-bos");
        var j = ToyQwen2(true);
        ((JsonArray)j["added_tokens"]!).Add(new JsonObject { ["id"] = 269, ["content"] = "<|begin_of_text|>", ["special"] = true });
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), j.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
            "{\"bos_token\":\"<|begin_of_text|>\",\"eos_token\":{\"content\":\"<|endoftext|>\"},\"add_bos_token\":true}");
        var tok = TokenizerLoader.Load(dir, Config("llama", 300));
        Assert.Equal(new[] { 269, 259 }, tok.Encode("Hello"));
        Assert.Equal((269, 266, 266), (tok.BosId!.Value, tok.EosId, tok.PadId));
        Assert.Equal("Hello", tok.Decode(tok.Encode("Hello")));
    }

    [Fact]
    public void Llama3TemplateProcessorPrependsBosWithoutAddBosToken()
    {
        // Llama 3's tokenizer_config has no add_bos_token; its tokenizer.json template puts <|begin_of_text|> first.
        string dir = TempDir("llama3-template");
        var j = ToyQwen2(false);
        ((JsonArray)j["added_tokens"]!).Add(new JsonObject { ["id"] = 269, ["content"] = "<|begin_of_text|>", ["special"] = true });
        j["post_processor"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["processors"] = new JsonArray(
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true },
                new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(
                        new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                        new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                }),
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), j.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"bos_token\":\"<|begin_of_text|>\",\"eos_token\":\"<|endoftext|>\"}");
        var tok = TokenizerLoader.Load(dir, Config("llama", 300));
        Assert.Equal(new[] { 269, 259, 264 }, tok.Encode("Hello world"));
        // Saved and reloaded (add_bos_token true + the same template), the rule survives.
        string outDir = TempDir("llama3-template-out");
        tok.Save(outDir);
        Assert.Equal(new[] { 269, 259, 264 }, TokenizerLoader.Load(outDir, Config("llama", 300)).Encode("Hello world"));
    }

    [Fact]
    public void EosFallsBackToConfigEosTokenId()
    {
        string dir = TempDir("cfg-eos");
        WriteByteLevel257(dir);
        var cfg = Config("qwen2", 257);
        cfg.EosTokenId = 10;   // "\n" as end of text, only because config.json says so
        var tok = TokenizerLoader.Load(dir, cfg);
        Assert.Equal((10, 10), (tok.EosId, tok.PadId));
    }

    public static IEnumerable<object[]> BadFolders() => new[]
    {
        new object[] { "merges.txt", "#version: 0.2\nĠ t\nonlyone\n", "line 3" },
        new object[] { "merges.txt", "#version: 0.2\na  b\n", "line 2" },
        new object[] { "vocab.json", "{\"a\": -1}", "non-negative" },
        new object[] { "vocab.json", "{\"a\": 1", "invalid JSON" },
        new object[] { "tokenizer_config.json", "{\"eos_token\": 5}", "eos_token" },
        new object[] { "tokenizer_config.json", "{\"eos_token\": \"<nope>\"}", "\"<nope>\" is not in the vocabulary" },
        new object[] { "tokenizer_config.json", "{\"add_bos_token\": true}", "no bos_token" },
        new object[] { "tokenizer.json", "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", "\"Unigram\" is not supported" },
        new object[] { "tokenizer.json", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[[\"a\"]]}}", "model.merges[0]" },
        new object[] { "tokenizer.json", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"normalizer\":{\"type\":\"NFKD\"}}", "normalizer \"NFKD\"" },
        new object[] { "tokenizer.json", "{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":{\"type\":\"Whitespace\"}}", "unk_token" },
    };

    [Theory]
    [MemberData(nameof(BadFolders))]
    public void BadTokenizerFilesGiveOneLineErrorsNamingTheFile(string file, string content, string fragment)
    {
        string dir = TempDir("badtok");
        WriteByteLevel257(dir);
        File.WriteAllText(Path.Combine(dir, file), content);
        var e = Assert.Throws<PerkException>(() => TokenizerLoader.Load(dir, Config("qwen2", 300)));
        Assert.Contains(fragment, e.Message);
        Assert.Contains(dir, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TokenizerLargerThanTheModelVocabularyIsRejected()
    {
        string dir = TempDir("toobig");
        WriteByteLevel257(dir);
        var e = Assert.Throws<PerkException>(() => TokenizerLoader.Load(dir, Config("gpt2", 200)));
        Assert.Contains("vocab_size is 200", e.Message);
    }
}
