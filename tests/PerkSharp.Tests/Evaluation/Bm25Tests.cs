using PerkSharp.Evaluation;

namespace PerkSharp.Tests.Evaluation;

public class Bm25Tests
{
    [Fact]
    public void RanksTheSegmentThatMentionsTheQueryTermsFirst()
    {
        var docs = new[]
        {
            "The weather was fine and the garden was quiet all afternoon.",
            "Mary Event 3: Mary went to the kitchen. Then the bells rang in the town.",
            "Daniel Event 1: Daniel journeyed to the office. Nobody saw him leave.",
            "Long prose about nothing in particular, repeated, repeated, repeated.",
        };
        var bm = new Bm25(docs);
        Assert.Equal(2, bm.TopK("Where is Daniel?", 1).Single());
        Assert.Equal(new[] { 1, 2 }, bm.TopK("Where is Daniel or Mary?", 2));      // returned in context order
        Assert.All(bm.Scores("zebra"), s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void MatchesTheBm25FormulaOnAHandCountedCase()
    {
        // Two documents; "a" occurs twice in doc 0 (length 3) and not in doc 1 (length 1): avgdl = 2, N = 2, df = 1.
        var bm = new Bm25(new[] { "a a b", "c" });
        double idf = Math.Log(1 + (2 - 1 + 0.5) / (1 + 0.5));
        double expected = idf * 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / 2.0));
        Assert.Equal(expected, bm.Scores("a")[0], 12);
        Assert.Equal(0.0, bm.Scores("a")[1]);
    }
}
