using System.Text.RegularExpressions;
using PerkSharp.Tokenization;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <summary>The supervised reading drills of the base model's pretraining: what they hold and what their loss covers.</summary>
public class ReadingDrillTests
{
    static readonly Regex Fact = new(@"(\w+) Event (\d+): \1 \w+(?: back)? to the (\w+)\.");
    static readonly Regex Target = new(@"^<support>(.+?)</support>\n<output>(\w+)</output>$");

    [Fact]
    public void Reading_drills_cycle_their_lengths_and_answer_with_the_asked_agents_last_event()
    {
        var o = new PretrainOptions { ReadingLengths = "0k,1k", ReadingDrills = 12 };
        var (drills, probe) = QuickstartData.Reading(new[] { 1 }, o, 12, 7);
        for (int i = 0; i < drills.Count; i++)
        {
            var d = drills[i];
            var context = string.Join(" ", d.Segments);
            if (i % 2 == 0) Assert.True(Fact.Matches(context).Count * 12 > context.Split(' ').Length, "0k: facts only");
            else Assert.True(Fact.Matches(context).Count * 12 < context.Split(' ').Length, "1k: facts in a haystack");
            var t = Target.Match(d.Target);
            Assert.True(t.Success, d.Target);
            string agent = Regex.Match(d.Question, @"Where is (\w+)\?").Groups[1].Value;
            var last = Fact.Matches(context).Where(m => m.Groups[1].Value == agent).MaxBy(m => int.Parse(m.Groups[2].Value));
            Assert.Equal(last!.Value, t.Groups[1].Value);
            Assert.Equal(last.Groups[3].Value, t.Groups[2].Value);
        }
        Assert.Equal(drills.Select(d => d.Text), QuickstartData.Reading(new[] { 1 }, o, 12, 7).Train.Select(d => d.Text));   // a pure function of the seed
        Assert.DoesNotContain(probe, p => drills.Any(d => d.Question == p.Question && d.Segments.SequenceEqual(p.Segments)));   // own seed stream
    }

    [Fact]
    public void A_drill_encodes_as_the_in_context_methods_encode_it()
    {
        var d = QuickstartData.Reading(new[] { 1 }, new PretrainOptions { ReadingDrills = 2 }, 0, 7).Train[1];
        var tok = WordLevelTokenizer.Build(new List<string> { d.Text }, 5000);
        var (ids, promptLength) = d.Encode(tok, 1536);
        var expected = PerkSharp.Evaluation.InContextMethod.Encode(tok, 1536, d.Segments, Enumerable.Range(0, d.Segments.Count).ToArray(), d.Question, d.Target, 0);
        Assert.Equal(expected.Ids, ids);
        Assert.Equal(expected.PromptLength, promptLength);
        Assert.Equal(tok.Encode(" " + d.Target).Append(tok.EosId), ids[promptLength..]);
    }

    [Fact]
    public void A_reading_batch_is_right_padded_and_labels_only_the_answer()
    {
        var tok = WordLevelTokenizer.Build(new List<string> { "a b c d e f g h" }, 100);
        var shortDrill = (Ids: new[] { 10, 11, 12, 13, 14 }, PromptLength: 3);
        var longDrill = (Ids: new[] { 20, 21, 22, 23, 24, 25, 26, 27 }, PromptLength: 6);
        var (x, y) = Pretrainer.ReadingBatch(new[] { shortDrill, longDrill }, 16, new Random(3), tok);
        Assert.Equal(new long[] { 16, 7 }, x.shape);
        var xs = x.data<long>().ToArray();
        var ys = y.data<long>().ToArray();
        int seenShort = 0, seenLong = 0;
        for (int r = 0; r < 16; r++)
        {
            var row = xs.Skip(r * 7).Take(7).ToArray();
            var labels = ys.Skip(r * 7).Take(7).ToArray();
            var (ids, prompt) = row[0] == 10 ? (shortDrill.Ids, shortDrill.PromptLength) : (longDrill.Ids, longDrill.PromptLength);
            if (row[0] == 10) seenShort++; else seenLong++;
            for (int j = 0; j < 7; j++)
            {
                Assert.Equal(j < ids.Length - 1 ? ids[j] : tok.PadId, row[j]);
                // position j predicts token j + 1: labelled only when that token is part of the answer
                Assert.Equal(j + 1 < ids.Length && j + 1 >= prompt ? ids[j + 1] : -100, labels[j]);
            }
        }
        Assert.True(seenShort > 0 && seenLong > 0);
    }
}
