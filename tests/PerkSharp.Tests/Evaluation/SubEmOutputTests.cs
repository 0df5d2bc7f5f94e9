using System.Text.Json.Nodes;
using PerkSharp.Data;
using PerkSharp.Evaluation;
using PerkSharp.Runtime;

namespace PerkSharp.Tests.Evaluation;

/// <summary>SubEM beside EM and F1 in outputs.jsonl, metrics.json and the report table; older outputs without it still read.</summary>
public class SubEmOutputTests
{
    /// <summary>Answers from a fixed list, so EM and SubEM can be told apart ("garden kitchen" contains "garden").</summary>
    sealed class Canned(params string[] outputs) : IEvalMethod
    {
        int _next;
        public string Name => "canned";
        public MethodAnswer Answer(PerkExample example) => new("q", outputs[_next++], 1, 1, 3);
    }

    static List<PerkExample> Examples() => Enumerable.Range(0, 4).Select(i =>
        new PerkExample($"e{i}", new[] { "Mary went to the garden." }, "Where is Mary?", "garden", Task: "babilong/qa1", Length: 1024)).ToList();

    [Fact]
    public void Harness_writes_subem_per_line_and_as_means_in_metrics_json()
    {
        TorchRuntime.Initialize();
        string dir = Path.Combine(Path.GetTempPath(), "perk-subem-" + Guid.NewGuid().ToString("N"));
        try
        {
            var method = new Canned("garden", "garden kitchen", "kitchen", "The garden, then.");
            var recs = EvalHarness.Run(method, Examples(), (p, t) => (PerkMetrics.ExactMatch(p, t), PerkMetrics.F1(p, t)), dir);
            Assert.Equal(new double?[] { 1, 1, 0, 1 }, recs.Select(r => r.SubEm));
            Assert.Equal(new double[] { 1, 0, 0, 0 }, recs.Select(r => r.Em));
            var lines = File.ReadAllLines(Path.Combine(dir, "outputs.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
            Assert.Equal(new[] { 1.0, 1, 0, 1 }, lines.Select(l => (double)l["subem"]!));
            var m = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!;
            Assert.Equal(0.75, (double)m["subem"]!, 12);
            Assert.Equal(0.25, (double)m["em"]!, 12);
            Assert.Equal(0.75, (double)m["by_task"]!["qa1"]!["subem"]!, 12);
            Assert.Equal(0.75, (double)m["rows"]![0]!["subem"]!, 12);
            Assert.Contains("| canned | qa1 | 1024 | 4 | 25.0 | [4.6, 69.9] |", ReportWriter.Markdown(recs));
            Assert.Contains("| SubEM |", ReportWriter.Markdown(recs));
            Assert.Contains("| 75.0 |", ReportWriter.Markdown(recs));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Outputs_written_before_subem_still_read_and_report_it_as_absent()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perk-oldout-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(dir);
            string old = Path.Combine(dir, "outputs.jsonl");
            File.WriteAllText(old, "{\"guid\":\"a\",\"method\":\"perk\",\"task\":\"qa1\",\"length\":1024,\"position\":\"q1\",\"prompt\":\"p\"," +
                                   "\"answer\":\"<output>garden</output>\",\"output\":\"<output>garden</output>\",\"em\":1,\"f1\":1,\"encode_ms\":2," +
                                   "\"answer_ms\":3,\"context_tokens\":10,\"segments\":1}\n");
            var recs = EvalRecord.ReadAll(old);
            Assert.Null(Assert.Single(recs).SubEm);
            Assert.Equal(1, recs[0].Em);
            var m = EvalSummary.Compute(recs);
            Assert.Null(m["subem"]);
            Assert.Equal(1.0, (double)m["em"]!);
            Assert.Contains("| perk | qa1 | 1024 | 1 | 100.0 | [20.7, 100.0] | 100.0 | – |", ReportWriter.Markdown(recs));
            // A group mixing old and new lines has no SubEM rather than a mean over part of it.
            var mixed = recs.Append(recs[0] with { Guid = "b", SubEm = 1 }).ToList();
            Assert.Null(GroupStats.Of(mixed).SubEm);
            Assert.Equal(1.0, GroupStats.Of(mixed.Skip(1).ToList()).SubEm);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
