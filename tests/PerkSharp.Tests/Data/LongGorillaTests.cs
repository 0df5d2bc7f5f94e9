using System.Text.Json;
using PerkSharp.Data;
using PerkSharp.Runtime;

namespace PerkSharp.Tests.Data;

/// <summary>LongGorilla: exact API-doc rendering, placements sharing distractors, split hygiene, errors.</summary>
public class LongGorillaTests
{
    static string GorillaDir => DataPaths.Shared("gorilla");

    [Fact]
    public void Rendering_reproduces_the_14_documents_of_the_official_sample()
    {
        var sample = OfficialReader.ReadSampleFile(DataPaths.Shared("perk-samples", "longgorilla", "huggingface_api.json"), "longgorilla", "huggingface_api");
        var pool = JsonlFile.Read(Path.Combine(GorillaDir, "api", "huggingface_api.jsonl")).Select(x => x.Root).ToList();
        Assert.Equal(14, sample.Context.Count);
        foreach (var doc in sample.Context)
        {
            string call = doc["<api>".Length..doc.IndexOf("</api>", StringComparison.Ordinal)];
            var candidates = pool.Where(d => d.GetProperty("api_call").GetString() == call).Select(ApiDocRenderer.Render).ToList();
            Assert.NotEmpty(candidates);
            Assert.Contains(doc, candidates);
        }
    }

    [Theory]
    [InlineData("0.911", "0.911")]
    [InlineData("34.0", "34.0")]
    [InlineData("1e-05", "1e-05")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("1e16", "1e+16")]
    [InlineData("1e15", "1000000000000000.0")]
    [InlineData("-2.5E-7", "-2.5e-07")]
    [InlineData("12", "12")]
    [InlineData("123456789012345678901", "123456789012345678901")]
    public void Numbers_print_like_python(string json, string python) => Assert.Equal(python, PyRepr.Number(json));

    [Fact]
    public void Strings_and_containers_print_like_python()
    {
        var v = JsonDocument.Parse("{\"a\": \"it's\", \"b\": \"say \\\"hi\\\" it's\", \"c\": [1, 2.0, null, true, false], \"d\": \"tab\\tnl\\n\\u00a0é\\\\\"}").RootElement;
        Assert.Equal("{'a': \"it's\", 'b': 'say \"hi\" it\\'s', 'c': [1, 2.0, None, True, False], 'd': 'tab\\tnl\\n\\xa0é\\\\'}", PyRepr.Of(v));
    }

    [Fact]
    public void Renderer_deletes_quotes_and_braces_and_collapses_whitespace()
    {
        var d = JsonDocument.Parse("{\"domain\": \"D\", \"api_call\": \"f('x',\\n  y)\", \"performance\": {\"dataset\": \"it's\", \"accuracy\": 0.5}, \"example_code\": \"a\\nb\"}").RootElement;
        Assert.Equal("<api>f('x', y)</api> domain: D, performance: dataset: \"its\", accuracy: 0.5, example_code: a\\nb", ApiDocRenderer.Render(d));
    }

    [Fact]
    public void Four_placements_share_the_distractors_and_put_the_gold_where_asked()
    {
        var data = GorillaData.Load(GorillaDir, "huggingface");
        var queries = data.QueriesOf("test");
        for (int i = 0; i < 5; i++)
        {
            var byLoc = LongGorillaGenerator.Locations.ToDictionary(l => l, l => LongGorillaGenerator.Generate(data, queries, l, "4k", "test", i));
            var q = queries[i];
            string gold = ApiDocRenderer.Render(q.ApiData);
            var first = byLoc["pre"].Example;
            int k = first.Context.Count;
            Assert.Equal(0, first.Context.ToList().IndexOf(gold));
            Assert.Equal(k / 2, byLoc["mid"].Example.Context.ToList().IndexOf(gold));
            Assert.Equal(k - 1, byLoc["post"].Example.Context.ToList().IndexOf(gold));
            Assert.Equal(byLoc["rnd"].Meta["gold_index"]!.GetValue<int>(), byLoc["rnd"].Example.Context.ToList().IndexOf(gold));
            var distractors = first.Context.Where(c => c != gold).ToHashSet();
            foreach (var g in byLoc.Values)
            {
                Assert.True(distractors.SetEquals(g.Example.Context.Where(c => c != gold)));
                Assert.Equal(q.ApiCall, g.Example.Answer);
                Assert.StartsWith("Instruction: ", g.Example.Question);
            }
            // The answer is recoverable from the context: exactly one doc carries <api>{answer}</api>.
            Assert.Single(first.Context, c => c.StartsWith("<api>" + first.Answer + "</api>"));
            int tokens = first.Context.Sum(Gpt2Tokens.Count);
            Assert.InRange(tokens, 3000, 4096);
        }
    }

    [Fact]
    public void Queries_are_split_by_answer_with_balanced_shares_and_parse_their_instruction()
    {
        foreach (var hub in GorillaData.Hubs)
        {
            var data = GorillaData.Load(GorillaDir, hub);
            var splits = new[] { "train", "validation", "test" }.ToDictionary(s => s, s => data.QueriesOf(s));
            Assert.Equal(data.Queries.Count, splits.Values.Sum(l => l.Count));
            Assert.Empty(splits["train"].Select(q => q.ApiCall).Intersect(splits["test"].Select(q => q.ApiCall)));
            Assert.Empty(splits["train"].Select(q => q.ApiCall).Intersect(splits["validation"].Select(q => q.ApiCall)));
            Assert.Empty(splits["validation"].Select(q => q.ApiCall).Intersect(splits["test"].Select(q => q.ApiCall)));
            Assert.InRange(splits["test"].Count, data.Queries.Count * 0.15, data.Queries.Count * 0.25);   // target 20 %
            Assert.All(data.Queries, q => Assert.DoesNotContain("###Output", q.Question));   // "###Input: …" stays
        }
        Assert.True(GorillaData.Load(GorillaDir, "huggingface").SkippedRows < 20);
    }

    [Fact]
    public void Missing_gorilla_folder_is_a_clear_error()
    {
        var ex = Assert.Throws<PerkException>(() => GorillaData.Load(Path.Combine(DataPaths.TempDir(), "nope"), "torchhub"));
        Assert.Contains("torchhub_api.jsonl is missing", ex.Message);
        Assert.Contains("--gorilla", ex.Message);
    }

    [Fact]
    public void Cli_writes_one_subset_per_location()
    {
        string d = DataPaths.TempDir();
        Assert.Equal(0, DataCliTests.Run("data", "generate", "--task", "longgorilla", "--hub", "torchhub", "--count", "3", "--out", d, "--gorilla", GorillaDir));
        foreach (var loc in LongGorillaGenerator.Locations)
        {
            var list = OfficialReader.Read(d, "longgorilla", $"torchhub_api_{loc}", "test");
            Assert.Equal(3, list.Count);
            Assert.All(list, e => Assert.Equal(loc, e.Position));
            Assert.All(list, e => Assert.Equal("longgorilla/torchhub_api", e.Task));
        }
        Assert.Equal(0, DataCliTests.Run("data", "generate", "--task", "student_records", "--query", "relation", "--length", "1k", "--count", "2", "--out", d));
        Assert.Equal(8, StudentRecordsReader.Read(Path.Combine(d, "student_records", "1k", "test"), "relation", "1k").Count);
        Assert.Equal(PerkSharp.Cli.CliGlobals.UserError,
            DataCliTests.Run("data", "generate", "--task", "longgorilla", "--count", "3", "--out", d, "--gorilla", Path.Combine(d, "missing")));
    }
}
