using System.Text.Json.Nodes;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Reliability;

namespace PerkSharp.Tests.Evaluation;

/// <summary>`perk eval` keeps going: a row that cannot be evaluated is recorded with its file, line and reason and counted; the others are scored.</summary>
public class EvalKeepsGoingTests
{
    [Fact]
    public void AnOversizedQuestionIsRecordedWithItsLineAndTheOtherRowsAreScored()
    {
        string root = Path.Combine(Path.GetTempPath(), "perk-evalgo-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            TrainedRunFixture.CopyTo(root);
            string data = Path.Combine(root, "d", "babilong", "qa1_1k", "test.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(data)!);
            string Row(string q) => new JsonObject { ["context"] = new JsonArray("Mary went to the kitchen."), ["question"] = q, ["answer"] = "kitchen" }.ToJsonString();
            // Line 4 (after a blank line) asks a question longer than the model's 256 positions.
            File.WriteAllText(data, string.Join("\n", Row("Where is Mary?"), Row("Where is Mary now?"), "", Row(new string('a', 400)), Row("Where?")) + "\n");
            string outDir = Path.Combine(root, "e");
            var r = CliRunner.RunIn(root, TimeSpan.FromMinutes(5), "eval", "--checkpoint", Path.Combine(root, "run"), "--data", Path.Combine(root, "d"),
                "--out", outDir, "--threads", "1");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains($"{data}:4: not evaluated: question", r.Stderr);
            Assert.Contains("eval: checkpoint " + Path.Combine(root, "run", "checkpoints", "last"), r.Stderr);
            Assert.Contains("1 row(s) could not be evaluated", r.Stdout);
            var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!;
            Assert.Equal(1, (int)metrics["failed"]!);
            Assert.Equal(3, File.ReadAllLines(Path.Combine(outDir, "outputs.jsonl")).Count(l => l.Length > 0));
            var failure = JsonNode.Parse(File.ReadAllLines(Path.Combine(outDir, "failures.jsonl")).Single())!;
            Assert.Equal(data, (string)failure["file"]!);
            Assert.Equal("4", (string)failure["line"]!);
            Assert.Contains("exceed the model's 256 positions", (string)failure["reason"]!);
        }
        finally { try { Directory.Delete(root, true); } catch { } }
    }
}
