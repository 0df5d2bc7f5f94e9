using System.Text.RegularExpressions;
using PerkSharp.Data;

namespace PerkSharp.Tests.Data;

/// <summary>Student Records generation: budget, split pools, balance, and an independent recomputation of answers.</summary>
public class StudentRecordsTests
{
    static readonly Regex Line = new(@"^Student <(\d{7})>, Name: (.+), Year: (\w+), School: (.+), Major: (.+), Grade: (\d+)$");

    [Theory]
    [InlineData("1k")]
    [InlineData("8k")]
    public void Databases_meet_the_token_budget_within_two_percent(string length)
    {
        int budget = LengthBudget.Tokens(length);
        for (int i = 0; i < 3; i++)
        {
            var db = StudentRecordsGenerator.Generate(3, length, "test", i);
            int tokens = db.Records.Sum(r => Gpt2Tokens.Count(r.Render()));
            Assert.InRange(tokens, budget * 0.98, budget * 1.02);
        }
    }

    [Fact]
    public void Splits_share_no_student_id_and_ids_are_unique_7_digit_numbers()
    {
        var pools = new[] { "train", "validation", "test" }.ToDictionary(s => s, s => StudentRecordsGenerator.Pool(11, s).Select(r => r.Id).ToList());
        foreach (var p in pools.Values)
        {
            Assert.Equal(StudentPool.DefaultSize, p.Distinct().Count());
            Assert.All(p, id => Assert.Matches(@"^[1-9]\d{6}$", id));
        }
        Assert.Empty(pools["train"].Intersect(pools["test"]));
        Assert.Empty(pools["train"].Intersect(pools["validation"]));
        Assert.Empty(pools["validation"].Intersect(pools["test"]));
        var testIds = pools["test"].ToHashSet();
        Assert.All(StudentRecordsGenerator.Generate(11, "1k", "test", 5).Records, r => Assert.Contains(r.Id, testIds));
    }

    [Fact]
    public void Written_files_read_back_and_answers_match_an_independent_recomputation()
    {
        string dir = Path.Combine(DataPaths.TempDir(), "student_records", "1k", "validation");
        var dbs = Enumerable.Range(0, 15).Select(i => StudentRecordsGenerator.Generate(5, "1k", "validation", i)).ToList();
        JsonlFile.Write(Path.Combine(dir, "context.jsonl"), dbs.Select(d => d.ContextLine()));
        int yes = 0, relations = 0;
        foreach (var q in StudentRecordsReader.Queries)
        {
            JsonlFile.Write(Path.Combine(dir, q + ".jsonl"), dbs.Select(d => d.QuestionLine(q)));
            var read = StudentRecordsReader.Read(dir, q, "1k");
            Assert.Equal(dbs.SelectMany(d => d.ToExamples(q, "1k")).Select(e => (e.Id, e.Question, e.Answer, string.Join("|", e.Context))),
                read.Select(e => (e.Id, e.Question, e.Answer, string.Join("|", e.Context))));
            foreach (var ex in read)
            {
                var rows = ex.Context.Select(c => Line.Match(c)).Select(m =>
                {
                    Assert.True(m.Success, "unparsed record");
                    return (Id: m.Groups[1].Value, Name: m.Groups[2].Value, Year: m.Groups[3].Value, School: m.Groups[4].Value, Major: m.Groups[5].Value, Grade: int.Parse(m.Groups[6].Value));
                }).ToList();
                Assert.Equal(ex.Answer, Solve(ex.Question, rows));
                if (q == "relation") { relations++; if (ex.Answer == "Yes") yes++; }
            }
        }
        Assert.Equal(60, relations);
        Assert.InRange(yes, 18, 42);                                          // Yes/No balanced near 50 %
    }

    // A separate simple solver over the parsed records (not the generator's code).
    static string Solve(string q, List<(string Id, string Name, string Year, string School, string Major, int Grade)> rows)
    {
        Match m;
        var byId = rows.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.First());
        if ((m = Regex.Match(q, @"^What is the name of the student with ID (\d+)\?$")).Success) return byId[m.Groups[1].Value].Name;
        if ((m = Regex.Match(q, @"^What major is student with ID (\d+) studying\?$")).Success) return byId[m.Groups[1].Value].Major;
        if ((m = Regex.Match(q, @"^What is the grade of the student with ID (\d+)\?$")).Success) return byId[m.Groups[1].Value].Grade.ToString();
        if ((m = Regex.Match(q, @"^Which year is student with ID (\d+) in\?$")).Success) return byId[m.Groups[1].Value].Year;
        if ((m = Regex.Match(q, @"^Which school is the student with ID (\d+) enrolled in\?$")).Success) return byId[m.Groups[1].Value].School;
        string YesNo(bool b) => b ? "Yes" : "No";
        if ((m = Regex.Match(q, @"^Does student (\d+) has a higher grade than student (\d+)\?$")).Success) return YesNo(byId[m.Groups[1].Value].Grade > byId[m.Groups[2].Value].Grade);
        if ((m = Regex.Match(q, @"^Does student (\d+) study the same major as student (\d+)\?$")).Success) return YesNo(byId[m.Groups[1].Value].Major == byId[m.Groups[2].Value].Major);
        if ((m = Regex.Match(q, @"^Are student (\d+) and student (\d+) enrolled in the same school\?$")).Success) return YesNo(byId[m.Groups[1].Value].School == byId[m.Groups[2].Value].School);
        if ((m = Regex.Match(q, @"^Are student (\d+) and student (\d+) in the same year\?$")).Success) return YesNo(byId[m.Groups[1].Value].Year == byId[m.Groups[2].Value].Year);
        if (q == "What is the highest grade among all students?") return rows.Max(r => r.Grade).ToString();
        if (q == "What is the lowest grade among all students?") return rows.Min(r => r.Grade).ToString();
        if (q == "What is the average grade of all students?")
            return Math.Round((decimal)rows.Sum(r => r.Grade) / rows.Count, 1, MidpointRounding.ToEven).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        if ((m = Regex.Match(q, @"^How many students are enrolled in the (.+)\?$")).Success) return rows.Count(r => r.School == m.Groups[1].Value).ToString();
        if ((m = Regex.Match(q, @"^How many students are studying (.+)\?$")).Success) return rows.Count(r => r.Major == m.Groups[1].Value).ToString();
        if ((m = Regex.Match(q, @"^How many (\w+) students are there\?$")).Success) return rows.Count(r => r.Year == m.Groups[1].Value).ToString();
        if ((m = Regex.Match(q, @"^How many students have a grade higher than (\d+)\?$")).Success) return rows.Count(r => r.Grade > int.Parse(m.Groups[1].Value)).ToString();
        if (q.StartsWith("List the IDs of the three students"))
        {
            var seen = new List<(string Id, int Grade, int First)>();
            for (int i = 0; i < rows.Count; i++) if (seen.All(s => s.Id != rows[i].Id)) seen.Add((rows[i].Id, rows[i].Grade, i));
            return string.Join(", ", seen.OrderByDescending(s => s.Grade).ThenBy(s => s.First).Take(3).Select(s => s.Id));
        }
        throw new InvalidOperationException("unknown question " + q);
    }

    [Theory]
    [InlineData(new[] { 49, 50 }, "49.5")]
    [InlineData(new[] { 50, 50 }, "50.0")]
    [InlineData(new[] { 1, 0, 0, 0 }, "0.2")]          // 0.25: tie, rounds to the even tenth
    [InlineData(new[] { 3, 0, 0, 0 }, "0.8")]          // 0.75: tie, rounds to the even tenth
    [InlineData(new[] { 2, 0, 0 }, "0.7")]             // 0.666…
    public void Average_rounds_half_to_even_and_always_prints_one_decimal(int[] grades, string expected) =>
        Assert.Equal(expected, StudentRecordsGenerator.Average(grades));

    [Fact]
    public void Sample_average_is_reproduced()
    {
        var avg = StudentRecordsReader.ReadSampleFolder(DataPaths.Shared("perk-samples", "student_records"))
            .Single(e => e.Question == "What is the average grade of all students?");
        var grades = avg.Context.Select(c => int.Parse(Line.Match(c).Groups[6].Value));
        Assert.Equal("49.3", StudentRecordsGenerator.Average(grades));          // 1282 / 26, duplicate row counted twice
    }

    [Fact]
    public void Same_seed_gives_identical_databases_and_names_follow_the_formats()
    {
        var a = StudentRecordsGenerator.Generate(21, "1k", "train", 4);
        var b = StudentRecordsGenerator.Generate(21, "1k", "train", 4);
        Assert.Equal(a.ContextLine(), b.ContextLine());
        Assert.Equal(a.QuestionLine("relation"), b.QuestionLine("relation"));
        Assert.NotEqual(a.ContextLine(), StudentRecordsGenerator.Generate(21, "1k", "train", 5).ContextLine());
        var names = StudentRecordsGenerator.Pool(21, "train").Select(r => r.Name).ToList();
        Assert.All(names, n => Assert.Matches(@"^((Mr\.|Mrs\.|Ms\.|Miss|Dr\.) )?\S+ \S+( (Jr\.|Sr\.|I|II|III|IV|V|MD|DDS|PhD|DVM))?$", n));
        Assert.Contains(names, n => n.StartsWith("Dr. ") && n.EndsWith(" PhD"));
    }

    [Fact]
    public void Support_is_off_by_default_and_with_support_tags_the_target()
    {
        var plain = StudentRecordsGenerator.Generate(8, "1k", "test", 0).ToExamples("recall");
        Assert.All(plain, e => Assert.Null(e.Support));
        Assert.Equal(plain[0].Answer, PerkFormat.Target(plain[0].Answer, plain[0].Support));
        var db = StudentRecordsGenerator.Generate(8, "1k", "test", 0, withSupport: true);
        var rec = db.ToExamples("recall")[0];
        string id = Regex.Match(rec.Question, @"\d{7}").Value;
        Assert.Equal(new[] { db.Records.First(r => r.Id == id).Render() }, rec.Support);
        Assert.StartsWith("<support>Student <" + id + ">", PerkFormat.Target(rec.Answer, rec.Support));
        Assert.All(db.ToExamples("relation"), e => Assert.Equal(2, e.Support!.Count));
        Assert.All(db.ToExamples("aggregate"), e => Assert.Null(e.Support));
    }
}
