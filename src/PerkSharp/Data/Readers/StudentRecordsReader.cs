using System.Text.Json;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// Student Records ("Drops-in-the-Ocean") reader (docs/DATA.md): <c>{split}/context.jsonl</c> (one database per
/// line) aligned line by line with <c>{split}/{query}.jsonl</c> ({"questions": [...]}). Every question becomes one
/// example whose context is the whole database, one rendered record per segment. Also reads the release's packed
/// sample files ({"database", "questions"}; "..." placeholders skipped; allgregation.json = aggregate).
/// </summary>
public static class StudentRecordsReader
{
    /// <summary>Question files the official reader knows.</summary>
    public static readonly string[] Queries = { "recall", "relation", "aggregate", "count", "sort" };

    static readonly string[] Fields = { "Student Id", "Student Name", "Year", "School", "Major", "Grade" };

    /// <summary>One record as one context element: "Student &lt;{Id}&gt;, Name: …, Year: …, School: …, Major: …, Grade: …".</summary>
    public static string Render(JsonElement record, string where)
    {
        if (record.ValueKind != JsonValueKind.Object) throw new PerkException($"{where}: a database record must be an object, found {record.ValueKind}");
        var v = Fields.Select(f => JsonlFile.RequireString(record, f, where)).ToArray();
        return Render(v[0], v[1], v[2], v[3], v[4], v[5]);
    }

    public static string Render(string id, string name, string year, string school, string major, string grade) =>
        $"Student <{id}>, Name: {name}, Year: {year}, School: {school}, Major: {major}, Grade: {grade}";

    /// <summary>Examples of one split folder and question type.</summary>
    public static List<PerkExample> Read(string splitDir, string query, string subset = "")
    {
        if (!Queries.Contains(query)) throw new PerkException($"student records query '{query}': expected one of {string.Join(", ", Queries)}");
        string ctxPath = Path.Combine(splitDir, "context.jsonl"), qPath = Path.Combine(splitDir, query + ".jsonl");
        var dbs = JsonlFile.Read(ctxPath).ToList();
        var qs = JsonlFile.Read(qPath).ToList();
        if (dbs.Count != qs.Count)
            throw new PerkException($"{qPath}: {qs.Count} lines but {ctxPath} has {dbs.Count} (files must be aligned line by line)");
        var list = new List<PerkExample>();
        for (int i = 0; i < dbs.Count; i++)
        {
            var (dbLine, db) = dbs[i];
            string dbWhere = $"{ctxPath}:{dbLine}";
            string id = JsonlFile.OptionalString(db, "database_id", dbWhere) ?? $"db{i}";
            var context = Database(db, dbWhere);
            list.AddRange(Questions(qs[i].Root, $"{qPath}:{qs[i].Line}", context, id, query, subset));
        }
        if (list.Count == 0) throw new PerkException($"{qPath}: no questions");
        return list;
    }

    /// <summary>A packed sample file {"database": [...], "questions": [...]} of the official release.</summary>
    public static List<PerkExample> ReadPacked(string path, string query)
    {
        var root = JsonlFile.ReadDocument(path);
        if (root.ValueKind != JsonValueKind.Object) throw new PerkException($"{path}: expected one JSON object");
        return Questions(root, path, Database(root, path), Path.GetFileNameWithoutExtension(path), query, "").ToList();
    }

    /// <summary>All packed sample files of a folder (recall.json, relation.json, allgregation.json or aggregate.json, …).</summary>
    public static List<PerkExample> ReadSampleFolder(string dir)
    {
        var list = new List<PerkExample>();
        foreach (var q in Queries)
        {
            string[] names = q == "aggregate" ? new[] { "aggregate.json", "aggregation.json", "allgregation.json" } : new[] { q + ".json" };
            string? file = names.Select(n => Path.Combine(dir, n)).FirstOrDefault(File.Exists);
            if (file != null) list.AddRange(ReadPacked(file, q));
        }
        return list;
    }

    static List<string> Database(JsonElement o, string where)
    {
        if (!o.TryGetProperty("database", out var db)) throw new PerkException($"{where}: missing field \"database\"");
        if (db.ValueKind != JsonValueKind.Array) throw new PerkException($"{where}: field \"database\" must be an array of records");
        var records = db.EnumerateArray().Select((r, k) => Render(r, $"{where}: database[{k}]")).ToList();
        if (records.Count == 0) throw new PerkException($"{where}: empty database (expected at least one record)");
        return records;
    }

    static IEnumerable<PerkExample> Questions(JsonElement o, string where, List<string> context, string dbId, string query, string subset)
    {
        if (!o.TryGetProperty("questions", out var qs) || qs.ValueKind != JsonValueKind.Array)
            throw new PerkException($"{where}: missing array field \"questions\"");
        int length = 0;
        if (subset.EndsWith('k') && int.TryParse(subset[..^1], out int n)) length = n * 1024;
        int k = 0;
        foreach (var q in qs.EnumerateArray())
        {
            if (q.ValueKind == JsonValueKind.String) continue;     // the samples end their lists with "..."
            if (q.ValueKind != JsonValueKind.Object) throw new PerkException($"{where}: questions[{k}] must be an object");
            string w = $"{where}: questions[{k}]";
            string? support = JsonlFile.OptionalString(q, "support", w);
            yield return new PerkExample($"{dbId}-{query}-{k}", context, JsonlFile.RequireString(q, "question", w),
                JsonlFile.RequireString(q, "answer", w), string.IsNullOrEmpty(support) ? null : support.Split('\n'),
                DatasetRegistry.StudentRecords.TaskOf(query).Task, length);
            k++;
        }
    }
}
