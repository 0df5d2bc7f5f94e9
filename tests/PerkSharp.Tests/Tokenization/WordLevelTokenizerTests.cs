using System.Text.Json.Nodes;
using PerkSharp.Tokenization;
using static PerkSharp.Tests.Tokenization.TokenizerTestUtil;

namespace PerkSharp.Tests.Tokenization;

public class WordLevelTokenizerTests
{
    static readonly string[] Corpus =
    {
        "Mary went to the kitchen. John went to the garden.",
        "Where is Mary? Mary is in the kitchen.",
        "the the the cat",
    };

    [Fact]
    public void BuildKeepsTheMostFrequentWordsAfterTheSpecials()
    {
        var tok = WordLevelTokenizer.Build(Corpus, maxVocab: 8);
        // specials 0..2, then by count: "the"(6) "."(3) "Mary"(3) ... ties in ordinal order ("." < "Mary").
        Assert.Equal(new[] { 3 }, tok.Encode("the"));
        Assert.Equal(new[] { 4 }, tok.Encode("."));
        Assert.Equal(new[] { 5 }, tok.Encode("Mary"));
        Assert.Equal(8, tok.VocabSize);
        Assert.Equal(new[] { tok.UnkId }, tok.Encode("zebra"));
        Assert.Equal((0, 1, 2), (tok.UnkId, tok.PadId, tok.EosId));
    }

    [Fact]
    public void SaveLoadRoundTripAsHfTokenizerJson()
    {
        var tok = WordLevelTokenizer.Build(Corpus, maxVocab: 100);
        string dir = TempDir("wordlevel");
        tok.Save(dir);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")))!;
        Assert.Equal("WordLevel", (string)json["model"]!["type"]!);
        Assert.Equal("[UNK]", (string)json["model"]!["unk_token"]!);
        Assert.Equal("Whitespace", (string)json["pre_tokenizer"]!["type"]!);

        var loaded = TokenizerLoader.Load(dir, Config("gpt2", 100));
        Assert.IsType<WordLevelTokenizer>(loaded);
        string text = "Where is John? John is in the garden.<|endoftext|>";
        var ids = tok.Encode(text);
        Assert.Equal(ids, loaded.Encode(text));
        Assert.Equal(tok.EosId, ids[^1]);
        Assert.Equal((tok.EosId, tok.PadId, tok.VocabSize), (loaded.EosId, loaded.PadId, loaded.VocabSize));
        Assert.Equal("Where is John ? John is in the garden .", loaded.Decode(ids));
        Assert.Equal("Where is John ? John is in the garden . <|endoftext|>", loaded.Decode(ids, skipSpecial: false));
    }

    [Fact]
    public void WhitespacePreTokenizerSplitsPunctuationRuns()
    {
        var tok = WordLevelTokenizer.Build(new[] { "a-b, c!! d" }, maxVocab: 50);
        var words = tok.Encode("a-b, c!! d").Select(id => tok.Decode(new[] { id })).ToArray();
        Assert.Equal(new[] { "a", "-", "b", ",", "c", "!!", "d" }, words);
    }
}
