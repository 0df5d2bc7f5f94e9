using PerkSharp.Data;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using PerkSharp.Tests.Reliability;
using PerkSharp.Tests.Training;
using PerkSharp.Training;
using TorchSharp;

namespace PerkSharp.Tests.Facade;

/// <summary>
/// The facade (src/PerkSharp/Perk.cs) in process on the tiny trained run of <see cref="TrainedRunFixture"/> (a
/// byte-level tokenizer and 256 positions): memories keep their base through save and load, segments are counted in
/// the model's own tokens, and every bad input is one <see cref="PerkException"/> line.
/// </summary>
public sealed class PerkFacadeTests : IDisposable
{
    const string Text = "The day was long. Mary went to the kitchen. John moved to the garden.\n\nRain fell. Mary went to the office.";
    readonly string _dir = TinyRun.TempDir("facade");
    static string Run => Path.Combine(TrainedRunFixture.Template, "run");

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    static PerkException OneLine(Action act, string expected)
    {
        var e = Assert.Throws<PerkException>(act);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void AnswersAreSplitIntoOutputAndSupport()
    {
        var a = PerkAnswer.Parse("q", "<support>Mary went to the kitchen.\nJohn slept.</support>\n<output> kitchen </output>");
        Assert.Equal(("kitchen", "Mary went to the kitchen.\nJohn slept."), (a.Output, a.Support));
        Assert.Equal("kitchen", PerkAnswer.Parse("q", "<OUTPUT>kitchen</OUTPUT>").Output);
        // No closed span: Output is the whole reply, as exact-match scoring compares it.
        var bare = PerkAnswer.Parse("q", "<output>kitch");
        Assert.Equal(("<output>kitch", "", "<output>kitch"), (bare.Output, bare.Support, bare.Raw));
    }

    [Fact]
    public void AMemoryKeepsItsBaseThroughSaveAndLoadAndAnswersTheSame()
    {
        using var perk = Perk.Open(Run);
        var questions = new[] { "Where is Mary?", "Where is John?" };
        using var memory = perk.Encode(Text);
        Assert.Equal(perk.Segment(Text).Count, memory.NumDocuments);
        Assert.Equal(WeightsFingerprint.Of(perk.BaseModelDirectory), memory.BaseFingerprint);
        Assert.Equal(perk.BaseModelDirectory, memory.BaseModelNameOrPath);
        var answers = perk.Ask(memory, questions);
        Assert.Equal(answers[0], perk.Ask(memory, questions[0]));             // batched and alone agree on this model

        using (var again = perk.Encode(Text))                                   // seeded: the same memory every time
            for (int i = 0; i < memory.FastWeights.Count; i++) Assert.True(memory.FastWeights[i].eq(again.FastWeights[i]).all().ToBoolean());

        string saved = Path.Combine(_dir, "m1"), resaved = Path.Combine(_dir, "m2");
        memory.Save(saved);
        using var loaded = perk.LoadMemory(saved);
        Assert.Equal((memory.BaseFingerprint, memory.BaseModelNameOrPath), (loaded.BaseFingerprint, loaded.BaseModelNameOrPath));
        Assert.Equal(answers, perk.Ask(loaded, questions));
        loaded.Save(resaved);
        Assert.Equal(File.ReadAllText(Path.Combine(saved, PerkMemory.ConfigFile)), File.ReadAllText(Path.Combine(resaved, PerkMemory.ConfigFile)));
        Assert.Equal(Safetensors.ReadHeader(Path.Combine(saved, PerkMemory.WeightsFile)).Metadata,
                     Safetensors.ReadHeader(Path.Combine(resaved, PerkMemory.WeightsFile)).Metadata);

        // A memory of another Perk of the same run fits this one.
        using var other = Perk.Open(Run);
        Assert.Equal(answers, other.Ask(memory, questions));
    }

    [Fact]
    public void SegmentsAreCountedInTheModelsOwnTokens()
    {
        using var perk = Perk.Open(Run);
        string text = string.Join(" ", Enumerable.Range(0, 600).Select(i => "word" + (i % 50))) + ".";
        var segments = perk.Segment(text, 64);
        // The fixture's model reads bytes: every segment fits 64 bytes, far more segments than 64 GPT-2 tokens give.
        Assert.All(segments, g => Assert.True(System.Text.Encoding.UTF8.GetByteCount(" " + g) <= 64, g));
        Assert.Equal(text, string.Join(" ", segments));
        Assert.True(segments.Count > 2 * GenericReader.Segment(text, 64).Count, $"{segments.Count} segments");
    }

    [Fact]
    public void EveryBadInputIsOnePerkExceptionLine()
    {
        OneLine(() => Perk.CheckSegmentTokens(Run, 300), "segment size 300: larger than the model's 256 positions");
        OneLine(() => Perk.CheckQuestions(new[] { "Where?", " " }), "question 2 is empty");
        string bad = Path.Combine(_dir, "bad.txt"), blank = Path.Combine(_dir, "blank.txt");
        File.WriteAllBytes(bad, new byte[] { 0x41, 0xC3, 0x28, 0x0A });
        File.WriteAllText(blank, " \n\n");
        using var perk = Perk.Open(Run);
        OneLine(() => perk.Encode(" \n "), "the document is empty");
        OneLine(() => perk.EncodeFile(blank), $"{blank}: the document is empty");
        OneLine(() => perk.EncodeFile(bad), $"{bad}: not valid UTF-8 text");
        OneLine(() => perk.EncodeFile(Path.Combine(_dir, "none.txt")), "document not found");
        OneLine(() => perk.Encode(Text, 8), "segment size 8: expected at least 16");
        OneLine(() => perk.Encode(Text, 257), "segment size 257: larger than the model's 256 positions");
        OneLine(() => perk.Encode(Array.Empty<string>()), "no segments");
        OneLine(() => perk.Encode(new[] { "Mary went home.", "" }), "segment 2 is empty");
        using var memory = perk.Encode(Text);
        OneLine(() => perk.Ask(memory, ""), "question 1 is empty");
        OneLine(() => perk.Ask(memory, new[] { "Where is Mary?", new string('x', 300) }), "question 2 is too long: its prompt takes");
        perk.Dispose();
        Assert.Throws<ObjectDisposedException>(() => perk.Ask(memory, "Where is Mary?"));
    }

    [Fact]
    public void AMemoryOfAnotherBaseModelIsRefused()
    {
        using var perk = Perk.Open(Run);
        using var memory = perk.Encode(Text);
        string dir = Path.Combine(_dir, "foreign");
        memory.Save(dir, baseFingerprint: new string('0', 64));
        OneLine(() => perk.LoadMemory(dir), $"{dir}: this memory was encoded on a different base model than {perk.BaseModelDirectory}");
        memory.SetBase("elsewhere", new string('0', 64));
        OneLine(() => perk.Ask(memory, "Where is Mary?"), "this memory was encoded on a different base model");
    }

    [Fact]
    public void AnFtIcrRunIsRefusedBeforeItLoads()
    {
        string run = Path.Combine(_dir, "ft");
        TinyRun.CopyDirectory(Run, run);
        foreach (var cfg in Directory.GetFiles(run, "config.yaml", SearchOption.AllDirectories))
            File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("method: perk", "method: ft_icr"));
        File.Delete(Path.Combine(run, "checkpoints", "last", PerkCheckpoint.MetaFile));      // nothing loads: the refusal comes first
        OneLine(() => Perk.Open(run), "an FT-ICR run has no encoder");
    }
}
