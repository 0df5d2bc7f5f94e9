using System.Text.Json.Nodes;
using PerkSharp.Tokenization;
using static PerkSharp.Tests.Tokenization.TokenizerTestUtil;

namespace PerkSharp.Tests.Tokenization;

/// <summary>GPT-2 ids for fixed strings (known values of the official tokenizer) and the folder-based GPT-2 BPE.</summary>
public class Gpt2TokenizerTests
{
    // Known GPT-2 ids (from the official gpt2 vocabulary), not from this implementation.
    public static IEnumerable<object[]> Known() => new[]
    {
        new object[] { "Hello world", new[] { 15496, 995 } },
        new object[] { "Hello world!", new[] { 15496, 995, 0 } },
        new object[] { " The quick brown fox", new[] { 383, 2068, 7586, 21831 } },
        new object[] { "Hello<|endoftext|>", new[] { 15496, 50256 } },
    };

    [Theory]
    [MemberData(nameof(Known))]
    public void PackagedGpt2GivesTheOfficialIds(string text, int[] ids)
    {
        var tok = new Gpt2Tokenizer();
        Assert.Equal(ids, tok.Encode(text));
        Assert.Equal((50256, 50256, 50257), (tok.EosId, tok.PadId, tok.VocabSize));
        Assert.Equal(text.Replace("<|endoftext|>", ""), tok.Decode(ids));
        Assert.Equal(text, tok.Decode(ids, skipSpecial: false));
    }

    [Fact]
    public void LoaderFallsBackToPackagedGpt2WhenTheFolderHasNoTokenizerFiles()
    {
        string dir = TempDir("gpt2-empty");
        var tok = TokenizerLoader.Load(dir, Config("gpt2", 50257));
        Assert.Equal(new[] { 15496, 995 }, tok.Encode("Hello world"));
        Assert.Equal("<|endoftext|>", tok.EosToken);
    }

    [Fact]
    public void ExportedVocabAndMergesReproduceTheOfficialTokenizerThroughTheFolderPath()
    {
        string dir = TempDir("gpt2-files");
        new Gpt2Tokenizer().Save(dir);
        // HF's gpt2 files: "Ġworld" is 995 in vocab.json and the first merge is "Ġ t".
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "vocab.json")))!.AsObject();
        Assert.Equal(50257, vocab.Count);
        Assert.Equal(995, (int)vocab["Ġworld"]!);
        var merges = File.ReadAllLines(Path.Combine(dir, "merges.txt"));
        Assert.Equal("Ġ t", merges[1]);
        Assert.Equal(50000, merges.Length - 1);

        File.Delete(Path.Combine(dir, "tokenizer.json"));            // force vocab.json + merges.txt
        var folder = TokenizerLoader.Load(dir, Config("gpt2", 50257));
        Assert.IsType<ByteLevelBpeTokenizer>(folder);
        var reference = new Gpt2Tokenizer();
        foreach (var text in new[] { "Hello world", " The quick brown fox jumps over the lazy dog.", "naïve café 😀 1234567 '' 's 've\n\n  x",
                                     "PERK: parameter-efficient meta-learning<|endoftext|>again", "\tTabs\tand   spaces   " })
        {
            Assert.Equal(reference.Encode(text), folder.Encode(text));
            Assert.Equal(text, folder.Decode(folder.Encode(text), skipSpecial: false));
        }
        Assert.Equal((50256, 50256), (folder.EosId, folder.PadId));

        // tokenizer.json written next to them loads to the same tokenizer.
        new Gpt2Tokenizer().Save(dir);
        File.Delete(Path.Combine(dir, "vocab.json"));
        var fromJson = TokenizerLoader.Load(dir, Config("gpt2", 50257));
        Assert.Equal(new[] { 15496, 995, 50256 }, fromJson.Encode("Hello world<|endoftext|>"));
    }
}
