using PerkSharp.Data;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Reliability;

namespace PerkSharp.Tests.Data;

/// <summary>
/// Segmenting always succeeds: sentences first, then word windows for any longer run, then character windows for a
/// single endless word; every segment fits the size, and no word is lost or reordered.
/// </summary>
public class SegmentTests
{
    static int Bytes(string s) => System.Text.Encoding.UTF8.GetByteCount(s);   // a byte-level tokenizer's count

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(256)]
    public void AFourThousandWordLineWithoutSentenceEndsIsCutIntoWindowsThatFit(int size)
    {
        string line = string.Join(" ", Enumerable.Range(0, 4000).Select(i => "word" + (i % 97)));
        var segments = GenericReader.Segment(line, size, Bytes);
        Assert.All(segments, g => Assert.True(Bytes(" " + g) <= size, $"{Bytes(" " + g)} > {size}: {g}"));
        Assert.Equal(line, string.Join(" ", segments));
        Assert.True(segments.Count >= Bytes(line) / size);
    }

    [Fact]
    public void SentencesStayWholeWhenTheyFitAndAnEndlessWordIsCutByCharacters()
    {
        string word = string.Concat(Enumerable.Repeat("é", 100));                          // 200 bytes, no spaces
        var segments = GenericReader.Segment($"Mary went home. John slept. {word}", 32, Bytes);
        Assert.Equal("Mary went home. John slept.", segments[0]);
        Assert.Equal(word, string.Concat(segments.Skip(1)));
        Assert.All(segments, g => Assert.True(Bytes(" " + g) <= 32));
    }

    [Fact]
    public void GptTwoCountsByDefault()
    {
        string line = string.Join(" ", Enumerable.Range(0, 600).Select(i => "alpha" + i));
        var segments = GenericReader.Segment(line, 50);
        Assert.All(segments, g => Assert.True(Gpt2Tokens.Count(" " + g) <= 50));
        Assert.Equal(line, string.Join(" ", segments));
    }

    [Fact]
    public void EncodeTakesAFourThousandWordLineAndHonoursSegmentTokens()
    {
        string root = DataPaths.TempDir();
        try
        {
            string t = TrainedRunFixture.CopyTo(Path.Combine(root, "t"));
            string doc = Path.Combine(root, "long.txt");
            File.WriteAllText(doc, string.Join(" ", Enumerable.Range(0, 4000).Select(i => "w" + (i % 10))) + "\n");   // 12,000 bytes
            var counts = new List<int>();
            foreach (var n in new[] { "200", "100" })
            {
                var r = CliRunner.RunIn(root, TimeSpan.FromMinutes(5), "encode", "--checkpoint", Path.Combine(t, "run"), "--document", doc,
                    "--out", Path.Combine(root, "m" + n), "--segment-tokens", n, "--threads", "1");
                Assert.True(r.ExitCode == 0, r.Stderr);
                var m = System.Text.RegularExpressions.Regex.Match(r.Stdout, @"encode: (\d+) segments");
                Assert.True(m.Success, r.Stdout);
                counts.Add(int.Parse(m.Groups[1].Value));
            }
            // The fixture's model reads bytes: 12,000 bytes need at least 60 windows of 200 and 120 of 100.
            Assert.InRange(counts[0], 60, 70);
            Assert.InRange(counts[1], 120, 135);
        }
        finally { try { Directory.Delete(root, true); } catch { } }
    }
}
