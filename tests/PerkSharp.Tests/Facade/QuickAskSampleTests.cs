using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Reliability;
using PerkSharp.Tests.Training;

namespace PerkSharp.Tests.Facade;

/// <summary>
/// The sample samples/QuickAsk (the facade only) is built with the tests and run as a child process, as a user would
/// run it: its answer is exactly what `perk ask` prints for the memory it saved, and the memory it saves has the
/// format `perk encode --out` writes.
/// </summary>
public class QuickAskSampleTests
{
    const string Question = "Where is Mary?";

    static CliRunner.Result Sample(params string[] args) => CliRunner.RunDll("QuickAsk.dll", null, TimeSpan.FromMinutes(5), args);

    /// <summary>What the sample prints after its "memory:" line for a reply (the reply may span lines).</summary>
    static string Expected(string raw)
    {
        var a = PerkAnswer.Parse(Question, raw);
        return $"output: {a.Output}\nsupport: {a.Support}\nQ: {Question}\nA: {raw}\n";
    }

    static string AfterFirstLine(string s) => s[(s.IndexOf('\n') + 1)..];

    [Fact]
    public void TheSampleAnswersExactlyAsPerkAskDoesForTheSameMemory()
    {
        string t = TrainedRunFixture.Template, run = Path.Combine(t, "run"), doc = Path.Combine(t, "doc.txt");
        string root = TinyRun.TempDir("quickask");
        try
        {
            string mem = Path.Combine(root, "sample.memory");
            var first = Sample(run, doc, Question, mem);
            Assert.True(first.ExitCode == 0, first.Stderr);
            Assert.StartsWith("memory: encoded ", first.Stdout);

            // perk ask on the memory the sample saved prints the sample's reply; so does perk ask encoding the
            // document itself (same default thread count, same seed).
            var ask = CliRunner.Run("ask", "--checkpoint", run, "--memory", mem, Question);
            Assert.True(ask.ExitCode == 0, ask.Stderr);
            Assert.StartsWith($"Q: {Question}\nA: ", ask.Stdout);
            string raw = ask.Stdout[$"Q: {Question}\nA: ".Length..^1];
            Assert.NotEqual("", raw);                                           // the tiny model says something: a real comparison
            Assert.Equal(Expected(raw), AfterFirstLine(first.Stdout));
            var askDoc = CliRunner.Run("ask", "--checkpoint", run, "--document", doc, Question);
            Assert.True(askDoc.ExitCode == 0, askDoc.Stderr);
            Assert.Equal(ask.Stdout, askDoc.Stdout);

            // The second run loads the saved memory and answers the same.
            var second = Sample(run, doc, Question, mem);
            Assert.True(second.ExitCode == 0, second.Stderr);
            Assert.StartsWith("memory: loaded from " + mem + "\n", second.Stdout);
            Assert.Equal(AfterFirstLine(first.Stdout), AfterFirstLine(second.Stdout));

            // What the sample saved is what perk encode --out writes: the same adapter_config.json and metadata.
            string encoded = Path.Combine(t, "mem");
            Assert.Equal(File.ReadAllText(Path.Combine(encoded, PerkMemory.ConfigFile)), File.ReadAllText(Path.Combine(mem, PerkMemory.ConfigFile)));
            Assert.Equal(Safetensors.ReadHeader(Path.Combine(encoded, PerkMemory.WeightsFile)).Metadata,
                         Safetensors.ReadHeader(Path.Combine(mem, PerkMemory.WeightsFile)).Metadata);
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public void TheSampleReportsABadDocumentInOneLine()
    {
        string root = TinyRun.TempDir("quickask");
        try
        {
            string bad = Path.Combine(root, "bad.txt");
            File.WriteAllBytes(bad, new byte[] { 0x41, 0xC3, 0x28, 0x0A });
            var r = Sample(Path.Combine(TrainedRunFixture.Template, "run"), bad, Question);
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"error: {bad}: not valid UTF-8 text\n", r.Stderr);
            Assert.Equal("", r.Stdout);
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }
}
