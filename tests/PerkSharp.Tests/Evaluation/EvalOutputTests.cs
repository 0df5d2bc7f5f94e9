using System.Text.Json.Nodes;
using PerkSharp.Evaluation;

namespace PerkSharp.Tests.Evaluation;

public class EvalOutputTests
{
    static List<EvalRecord> Sample()
    {
        var rnd = new Random(3);
        var list = new List<EvalRecord>();
        foreach (var method in new[] { "perk", "ft_icr" })
            foreach (var len in new[] { 256, 512, 1024 })
                for (int i = 0; i < 5; i++)
                    list.Add(new EvalRecord
                    {
                        Guid = $"qa1_{len}_{i}", Method = method, Task = "qa1", Length = len, Position = "q" + (1 + i % 4),
                        Prompt = "You have memorized 2 documents.\nWhere is Mary?\nAnswer:", Answer = "<output>garden</output>",
                        Output = i % 2 == 0 ? "<output>garden</output>" : "<output>hallway</output>",
                        Em = i % 2 == 0 ? 1 : 0, F1 = rnd.NextDouble(), EncodeMs = 10 * len / 256.0 + i, AnswerMs = 3 + i,
                        ContextTokens = len, Segments = len / 128,
                    });
        return list;
    }

    [Fact]
    public void MetricsJsonIsRecomputableFromOutputsJsonl()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perk-eval-" + Guid.NewGuid().ToString("N"));
        try
        {
            var recs = Sample();
            EvalRecord.WriteAll(Path.Combine(dir, "outputs.jsonl"), recs);
            EvalSummary.Write(Path.Combine(dir, "metrics.json"), recs);
            var back = EvalRecord.ReadAll(Path.Combine(dir, "outputs.jsonl"));
            Assert.Equal(recs, back);                                      // every field survives the JSONL round trip
            var m = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!;
            // Recompute independently from the raw JSON lines.
            var lines = File.ReadAllLines(Path.Combine(dir, "outputs.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
            foreach (var row in m["rows"]!.AsArray())
            {
                var sel = lines.Where(l => (string)l["method"]! == (string)row!["method"]! && (int)l["length"]! == (int)row["length"]!).ToList();
                Assert.Equal(sel.Count, (int)row!["n"]!);
                Assert.Equal(sel.Average(l => (double)l["em"]!), (double)row["em"]!, 12);
                Assert.Equal(sel.Average(l => (double)l["f1"]!), (double)row["f1"]!, 12);
            }
            Assert.Equal(6, m["rows"]!.AsArray().Count);
            Assert.Equal(lines.Count(l => (string)l["position"]! == "q1"), (int)m["by_position"]!["q1"]!["n"]!);
            Assert.Equal(lines.Average(l => (double)l["em"]!), (double)m["em"]!, 12);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void ReportWritesMarkdownAndThreePngs()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perk-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var recs = Sample();
            EvalRecord.WriteAll(Path.Combine(dir, "run", "perk", "outputs.jsonl"), recs.Where(r => r.Method == "perk"));
            EvalRecord.WriteAll(Path.Combine(dir, "run", "ft_icr", "outputs.jsonl"), recs.Where(r => r.Method == "ft_icr"));
            var collected = ReportWriter.Collect(new[] { Path.Combine(dir, "run") });
            Assert.Equal(recs.Count, collected.Count);
            string md = ReportWriter.Write(collected, Path.Combine(dir, "report"));
            Assert.Contains("| perk | qa1 | 512 | 5 | 60.0 |", md);         // 3 of 5 rows have EM 1
            foreach (var png in new[] { "accuracy_vs_length.png", "accuracy_by_position.png", "latency_vs_length.png" })
            {
                var bytes = File.ReadAllBytes(Path.Combine(dir, "report", png));
                Assert.True(bytes.Length > 2000, png);
                Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, bytes[..4]);   // PNG signature
            }
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void GoldPositionIsTheQuarterHoldingTheLastSupportFact()
    {
        var ctx = Enumerable.Range(0, 8).Select(i => $"prose {i}").ToList();
        ctx[6] += " Mary Event 2: Mary went to the garden.";
        var ex = new PerkSharp.Data.PerkExample("g", ctx, "Where is Mary?", "garden", new[] { "Mary Event 2: Mary went to the garden." }, "babilong/qa1", 256);
        Assert.Equal("q4", EvalHarness.GoldPosition(ex));
        Assert.Equal("qa1", EvalHarness.TaskName(ex));
    }
}
