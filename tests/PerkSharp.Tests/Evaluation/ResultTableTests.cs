using System.Text.Json.Nodes;
using PerkSharp.Evaluation;
using PerkSharp.Training;

namespace PerkSharp.Tests.Evaluation;

public class ResultTableTests
{
    static JsonObject Row(string method, string task, int length, double em, int n, bool withCi = true)
    {
        var r = new JsonObject { ["method"] = method, ["task"] = task, ["length"] = length, ["em"] = em, ["f1"] = em, ["n"] = n };
        if (withCi) { var (lo, hi) = Wilson.OfMean(em, n); r["em_lo"] = lo; r["em_hi"] = hi; r["subem"] = Math.Min(1, em + 0.05); }
        return r;
    }

    static JsonObject Summary(params JsonObject[] rows) => new() { ["rows"] = new JsonArray(rows), ["wall_seconds"] = 1.0 };

    [Fact]
    public void CellsAreEmWithWilsonIntervalAndTheLastRowIsChance()
    {
        var s = Summary(Row("perk", "qa1", 1024, 0.9, 30), Row("ft_icr", "qa1", 1024, 0.0, 30),
                        Row("perk", "qa1", 2048, 0.5, 30, withCi: false), Row("ft_icr", "qa1", 2048, 1.0, 30, withCi: false));
        string md = Quickstart.Table(s);                                        // the quickstart prints exactly this
        var lines = md.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("| task | context tokens | n | perk EM [95% CI] | ft_icr EM [95% CI] | perk F1 | ft_icr F1 | perk SubEM | ft_icr SubEM |", lines[0]);
        Assert.Equal("| qa1 | 1024 | 30 | 90.0 [74.4, 96.5] | 0.0 [0.0, 11.4] | 90.0 | 0.0 | 95.0 | 5.0 |", lines[2]);
        // Without em_lo/em_hi (an older summary.json) the interval is computed from em and n: 15/30 and 30/30; without
        // subem (written before it existed) the SubEM cell is a dash.
        Assert.Equal("| qa1 | 2048 | 30 | 50.0 [33.2, 66.8] | 100.0 [88.6, 100.0] | 50.0 | 100.0 | – | – |", lines[3]);
        Assert.Equal("| **chance** (qa1) | – | – | 16.7 | 16.7 | – | – | – | – |", lines[^1]);
        Assert.Equal(5, lines.Count);
    }

    [Fact]
    public void UnknownTaskChanceIsADashAndMixedNIsShownPerCell()
    {
        var s = Summary(Row("perk", "qa2", 512, 0.5, 100), Row("bm25_top1", "qa2", 512, 0.5, 98),
                        Row("perk", "mystery", 512, 0.25, 4));
        var lines = ResultTable.Markdown(s).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("| qa2 | 512 | varies | 50.0 [40.4, 59.6] (n=100) | 50.0 [40.3, 59.7] (n=98) | 50.0 | 50.0 | 55.0 | 55.0 |", lines[2]);
        Assert.Equal("| mystery | 512 | 4 | 25.0 [4.6, 69.9] | – | 25.0 | – | 30.0 | – |", lines[3]);
        Assert.Equal("| **chance** (qa2) | – | – | 16.7 | 16.7 | – | – | – | – |", lines[4]);
        Assert.Equal("| **chance** (mystery) | – | – | – | – | – | – | – | – |", lines[5]);
    }

    [Theory]
    [InlineData("qa1", 1.0 / 6)]
    [InlineData("babilong/qa2", 1.0 / 6)]
    [InlineData("qa5", null)]
    public void ChanceLevelPerTask(string task, double? chance) => Assert.Equal(chance, ResultTable.Chance(task));

    [Fact]
    public void SummarizeAddsWilsonBoundsRecomputableFromOutputs()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perk-summary-" + Guid.NewGuid().ToString("N"));
        try
        {
            var recs = Enumerable.Range(0, 30).Select(i => new EvalRecord
            {
                Guid = $"g{i}", Method = "perk", Task = "qa1", Length = 1024, Prompt = "p", Answer = "a", Output = "o",
                Em = i < 27 ? 1 : 0, F1 = 0.5, SubEm = i < 28 ? 1 : 0,
            }).ToList();
            EvalRecord.WriteAll(Path.Combine(dir, "perk_qa1_1k", "outputs.jsonl"), recs);
            var row = Quickstart.Summarize(dir, 1)["rows"]![0]!.AsObject();
            Assert.Equal(0.9, (double)row["em"]!, 12);
            Assert.Equal(Wilson.Interval(27, 30).Lo, (double)row["em_lo"]!, 12);
            Assert.Equal(Wilson.Interval(27, 30).Hi, (double)row["em_hi"]!, 12);
            Assert.Equal(28 / 30.0, (double)row["subem"]!, 12);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
