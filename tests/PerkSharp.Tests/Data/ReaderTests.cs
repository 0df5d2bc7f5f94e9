using PerkSharp.Data;
using PerkSharp.Runtime;

namespace PerkSharp.Tests.Data;

/// <summary>Official-layout, Student Records and generic JSONL readers, and their one-line errors.</summary>
public class ReaderTests
{
    static string Write(string dir, string rel, string text)
    {
        string p = Path.Combine(dir, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void Official_layout_reads_ids_support_and_ignores_meta()
    {
        string dir = DataPaths.TempDir();
        Write(dir, "babilong/qa1_8k/test.jsonl",
            "{\"context\":[\"a b\",\"c\"],\"question\":\"Where is Mary?\",\"answer\":\"garden\",\"support\":[\"Mary Event 0: Mary went to the garden.\"],\"meta\":{\"x\":1}}\n\n" +
            "{\"context\":[\"d\"],\"question\":\"Where is John?\",\"answer\":\"office\",\"support\":[]}\n");
        var list = OfficialReader.Read(dir, "babilong", "qa1_8k", "test");
        Assert.Equal(new[] { "qa1_8k_0", "qa1_8k_1" }, list.Select(e => e.Id));
        Assert.Equal("babilong/qa1", list[0].Task);
        Assert.Equal(8192, list[0].Length);
        Assert.Single(list[0].Support!);
        Assert.Null(list[1].Support);                                         // empty support → bare-answer target
    }

    [Fact]
    public void LongGorilla_prompt_and_api_call_fields_are_accepted()
    {
        string dir = DataPaths.TempDir();
        Write(dir, "longgorilla/huggingface_api/test.jsonl", "{\"context\":[\"<api>x</api> d\"],\"prompt\":\"Instruction: do\",\"api_call\":\"x()\",\"location\":\"mid\"}\n");
        var e = OfficialReader.Read(dir, "longgorilla", "huggingface_api", "test").Single();
        Assert.Equal(("Instruction: do", "x()", "mid"), (e.Question, e.Answer, e.Position));
    }

    [Theory]
    [InlineData("{\"context\":[\"a\"],\"question\":\"q\"}\n", "t.jsonl:1: missing field \"answer\"")]
    [InlineData("{\"context\":[\"a\"],\"question\":\"q\",\"answer\":\"x\"}\n{\"context\":[],\"question\":\"q\",\"answer\":\"x\"}\n", "t.jsonl:2: empty context")]
    [InlineData("{\"question\":\"q\",\"answer\":\"x\"}\n", "t.jsonl:1: missing field \"context\"")]
    [InlineData("{\"context\":[\"a\"],\"question\":\"q\",\"answer\":\"x\"\n", "t.jsonl:1: invalid JSON")]
    [InlineData("{\"context\":[1],\"question\":\"q\",\"answer\":\"x\"}\n", "t.jsonl:1: context[0] must be a string")]
    public void Errors_name_file_line_and_problem(string content, string expected)
    {
        string p = Write(DataPaths.TempDir(), "t.jsonl", content);
        var ex = Assert.Throws<PerkException>(() => OfficialReader.ReadFile(p, "babilong", "qa1_1k"));
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain("\n", ex.Message);
    }

    [Fact]
    public void Invalid_utf8_is_reported_with_its_line()
    {
        string p = Path.Combine(DataPaths.TempDir(), "bad.jsonl");
        var good = System.Text.Encoding.UTF8.GetBytes("{\"context\":[\"a\"],\"question\":\"q\",\"answer\":\"x\"}\n");
        var bad = System.Text.Encoding.UTF8.GetBytes("{\"context\":[\"\u00e9\"],\"question\":\"q\",\"answer\":\"x\"}\n");
        bad[13] = 0xFF;                                                       // break the 2-byte é
        File.WriteAllBytes(p, good.Concat(bad).ToArray());
        var ex = Assert.Throws<PerkException>(() => GenericReader.Read(p));
        Assert.Contains("bad.jsonl:2: invalid UTF-8", ex.Message);
    }

    [Fact]
    public void Generic_reader_segments_documents_on_sentence_boundaries()
    {
        string sentence = "The quick brown fox jumps over the lazy dog near the river bank today.";   // 15 tokens
        string doc = string.Join(" ", Enumerable.Range(0, 40).Select(_ => sentence));
        string p = Write(DataPaths.TempDir(), "mine.jsonl",
            System.Text.Json.JsonSerializer.Serialize(new { id = "d1", document = doc, question = "q?", answer = "a", support = "f1\nf2" }) + "\n" +
            "{\"context\":[\"s1\",\"s2\"],\"question\":\"q2\",\"answer\":7}\n");
        var list = GenericReader.Read(p, segmentTokens: 64);
        var e = list[0];
        Assert.Equal("d1", e.Id);
        Assert.Equal(new[] { "f1", "f2" }, e.Support);
        Assert.All(e.Context, s => Assert.True(Gpt2Tokens.Count(s) <= 64));
        Assert.All(e.Context, s => Assert.EndsWith("today.", s));                  // whole sentences only
        Assert.Equal(doc, string.Join(" ", e.Context));
        Assert.Equal(10, e.Context.Count);                                          // 4 sentences × 15 tokens per 64
        Assert.Equal(("mine_1", "7"), (list[1].Id, list[1].Answer));               // numbers pass through str()
    }

    [Fact]
    public void Student_records_layout_is_aligned_line_by_line()
    {
        string dir = DataPaths.TempDir();
        string rec(string id, string g) => $"{{\"Student Id\":\"{id}\",\"Student Name\":\"A B\",\"Year\":\"Junior\",\"School\":\"School of Engineering\",\"Major\":\"Civil Engineering\",\"Grade\":\"{g}\"}}";
        Write(dir, "student_records/1k/test/context.jsonl",
            $"{{\"database_id\":\"test-000000\",\"database\":[{rec("1000001", "50")},{rec("1000002", "60")}]}}\n{{\"database_id\":\"test-000001\",\"database\":[{rec("1000003", "70")}]}}\n");
        Write(dir, "student_records/1k/test/aggregate.jsonl",
            "{\"questions\":[{\"question\":\"What is the highest grade among all students?\",\"answer\":\"60\"}]}\n{\"questions\":[{\"question\":\"What is the lowest grade among all students?\",\"answer\":70}]}\n");
        Write(dir, "student_records/1k/test/recall.jsonl", "{\"questions\":[]}\n");
        var list = StudentRecordsReader.Read(Path.Combine(dir, "student_records/1k/test"), "aggregate", "1k");
        Assert.Equal(2, list.Count);
        Assert.Equal(2, list[0].Context.Count);
        Assert.Equal("70", list[1].Answer);
        Assert.Equal(1024, list[0].Length);
        var ex = Assert.Throws<PerkException>(() => StudentRecordsReader.Read(Path.Combine(dir, "student_records/1k/test"), "recall"));
        Assert.Contains("recall.jsonl: 1 lines but", ex.Message);
        var sets = DatasetRegistry.Discover(dir);
        Assert.Equal(new[] { Path.Combine("student_records", "1k", "test", "aggregate.jsonl"), Path.Combine("student_records", "1k", "test", "recall.jsonl") }, sets.Select(s => s.Name));
    }
}
