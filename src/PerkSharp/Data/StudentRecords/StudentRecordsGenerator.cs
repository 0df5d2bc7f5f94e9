using System.Globalization;
using System.Text.Json.Nodes;

namespace PerkSharp.Data;

/// <summary>A question with its answer and optional support lines (rendered records).</summary>
public sealed record StudentQuestion(string Question, string Answer, IReadOnlyList<string>? Support = null);

/// <summary>One generated database with its questions per type (recall, relation, aggregate, count, sort).</summary>
public sealed record StudentDatabase(string DatabaseId, IReadOnlyList<StudentRecord> Records, IReadOnlyDictionary<string, IReadOnlyList<StudentQuestion>> Questions)
{
    /// <summary>The context.jsonl line.</summary>
    public string ContextLine() => JsonlFile.Line(new JsonObject
    {
        ["database_id"] = DatabaseId,
        ["database"] = new JsonArray(Records.Select(r => (JsonNode)new JsonObject
        {
            ["Student Id"] = r.Id, ["Student Name"] = r.Name, ["Year"] = r.Year, ["School"] = r.School, ["Major"] = r.Major,
            ["Grade"] = r.Grade.ToString(CultureInfo.InvariantCulture),
        }).ToArray()),
    });

    /// <summary>One example per question of <paramref name="query"/>, the whole database as context (as the reader yields).</summary>
    public List<PerkExample> ToExamples(string query, string subset = "")
    {
        var context = Records.Select(r => r.Render()).ToList();
        int length = subset.EndsWith('k') && int.TryParse(subset[..^1], out int n) ? n * 1024 : 0;
        return Questions[query].Select((q, k) => new PerkExample($"{DatabaseId}-{query}-{k}", context, q.Question, q.Answer,
            q.Support is { Count: > 0 } ? q.Support : null, "student_records/" + query, length)).ToList();
    }

    /// <summary>The line of one question file ({"questions": [...]}), aligned with <see cref="ContextLine"/>.</summary>
    public string QuestionLine(string query) => JsonlFile.Line(new JsonObject
    {
        ["questions"] = new JsonArray(Questions[query].Select(q =>
        {
            var o = new JsonObject { ["question"] = q.Question, ["answer"] = q.Answer };
            if (q.Support is { Count: > 0 }) o["support"] = string.Join("\n", q.Support);
            return (JsonNode)o;
        }).ToArray()),
    });
}

/// <summary>
/// Student Records ("Drops-in-the-Ocean") databases at a token budget (docs/DATA.md): records drawn with
/// replacement from the split's pool until the rendered lines are closest to B(Nk) GPT-2 tokens, then 5 recall,
/// 4 relation (Yes/No balanced by rejection sampling), 3 aggregate, 4 count and 1 sort question.
/// </summary>
public static class StudentRecordsGenerator
{
    static readonly Dictionary<(ulong, string), List<StudentRecord>> Pools = new();

    /// <summary>The split's pool (cached per seed and split).</summary>
    public static List<StudentRecord> Pool(ulong seed, string split)
    {
        lock (Pools)
            return Pools.TryGetValue((seed, split), out var p) ? p : Pools[(seed, split)] = StudentPool.Build(seed, split);
    }

    public static StudentDatabase Generate(ulong seed, string length, string split, long index, bool withSupport = false, BudgetRule rule = BudgetRule.Perk)
    {
        var pool = Pool(seed, split);
        var rng = PerkRandom.ForSample(seed, "student_records", length, split, index);
        int budget = LengthBudget.Tokens(length, rule);
        if (budget <= 0) throw new Runtime.PerkException($"length {length}: Student Records needs a positive budget (1k or more)");
        var rows = new List<StudentRecord>();
        int total = 0;
        while (total < budget)
        {
            var r = rng.Pick(pool);
            int t = Gpt2Tokens.Count(r.Render());
            if (rows.Count > 0 && total + t - budget > budget - total) break;        // closer to B without this row
            rows.Add(r);
            total += t;
        }
        IReadOnlyList<string>? Support(StudentRecord[] rs) => withSupport ? rs.Select(x => x.Render()).ToList() : null;

        var qs = new Dictionary<string, IReadOnlyList<StudentQuestion>>
        {
            ["recall"] = Recall(rows, rng, Support),
            ["relation"] = Relation(rows, rng, Support),
            ["aggregate"] = Aggregate(rows),
            ["count"] = Count(rows, rng),
            ["sort"] = new[] { Sort(rows) },
        };
        return new StudentDatabase($"{split}-{index:D6}", rows, qs);
    }

    static List<StudentQuestion> Recall(List<StudentRecord> rows, PerkRandom rng, Func<StudentRecord[], IReadOnlyList<string>?> support)
    {
        StudentRecord R() => rng.Pick(rows);
        var a = R(); var b = R(); var c = R(); var d = R(); var e = R();
        return new()
        {
            new($"What is the name of the student with ID {a.Id}?", a.Name, support(new[] { a })),
            new($"What major is student with ID {b.Id} studying?", b.Major, support(new[] { b })),
            new($"What is the grade of the student with ID {c.Id}?", c.Grade.ToString(CultureInfo.InvariantCulture), support(new[] { c })),
            new($"Which year is student with ID {d.Id} in?", d.Year, support(new[] { d })),
            new($"Which school is the student with ID {e.Id} enrolled in?", e.School, support(new[] { e })),
        };
    }

    static List<StudentQuestion> Relation(List<StudentRecord> rows, PerkRandom rng, Func<StudentRecord[], IReadOnlyList<string>?> support)
    {
        var templates = new (string Text, Func<StudentRecord, StudentRecord, bool> Holds)[]
        {
            ("Does student {a} has a higher grade than student {b}?", (a, b) => a.Grade > b.Grade),
            ("Does student {a} study the same major as student {b}?", (a, b) => a.Major == b.Major),
            ("Are student {a} and student {b} enrolled in the same school?", (a, b) => a.School == b.School),
            ("Are student {a} and student {b} in the same year?", (a, b) => a.Year == b.Year),
        };
        var list = new List<StudentQuestion>();
        foreach (var (text, holds) in templates)
        {
            bool want = rng.Coin();                  // balance Yes/No by rejection sampling
            StudentRecord a = rows[0], b = rows[0];
            bool found = false;
            for (int t = 0; t < 2000 && !found; t++)
            {
                a = rng.Pick(rows); b = rng.Pick(rows);
                found = a.Id != b.Id && holds(a, b) == want;
            }
            if (!found)
                for (int t = 0; t < 2000 && a.Id == b.Id; t++) { a = rng.Pick(rows); b = rng.Pick(rows); }
            if (a.Id == b.Id) continue;              // a database of one distinct student has no relation question
            list.Add(new(text.Replace("{a}", a.Id).Replace("{b}", b.Id), holds(a, b) ? "Yes" : "No", support(new[] { a, b })));
        }
        return list;
    }

    static List<StudentQuestion> Aggregate(List<StudentRecord> rows) => new()
    {
        new("What is the highest grade among all students?", rows.Max(r => r.Grade).ToString(CultureInfo.InvariantCulture)),
        new("What is the lowest grade among all students?", rows.Min(r => r.Grade).ToString(CultureInfo.InvariantCulture)),
        new("What is the average grade of all students?", Average(rows.Select(r => r.Grade))),
    };

    /// <summary>Mean over all rows (duplicates included), exact rational rounding half-to-even to one decimal.</summary>
    public static string Average(IEnumerable<int> grades)
    {
        long sum = 0, n = 0;
        foreach (var g in grades) { sum += g; n++; }
        long tenths = sum * 10 / n, rem = sum * 10 % n;
        if (2 * rem > n || (2 * rem == n && tenths % 2 == 1)) tenths++;
        return $"{tenths / 10}.{tenths % 10}";
    }

    static List<StudentQuestion> Count(List<StudentRecord> rows, PerkRandom rng)
    {
        string school = rng.Pick(rows).School, major = rng.Pick(rows).Major, year = rng.Pick(rows).Year;
        int g = rng.Next(101);
        string N(int n) => n.ToString(CultureInfo.InvariantCulture);
        return new()
        {
            new($"How many students are enrolled in the {school}?", N(rows.Count(r => r.School == school))),
            new($"How many students are studying {major}?", N(rows.Count(r => r.Major == major))),
            new($"How many {year} students are there?", N(rows.Count(r => r.Year == year))),
            new($"How many students have a grade higher than {g}?", N(rows.Count(r => r.Grade > g))),
        };
    }

    static StudentQuestion Sort(List<StudentRecord> rows)
    {
        // Distinct ids in first-appearance order; stable sort by grade keeps first appearance on ties.
        var top = rows.DistinctBy(r => r.Id).OrderByDescending(r => r.Grade).Take(3).Select(r => r.Id);
        return new("List the IDs of the three students with the highest grades, from highest to lowest.", string.Join(", ", top));
    }
}
