using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// Student Records: student_records/{length}/{split}/context.jsonl aligned with one file per question
/// type ({query}.jsonl). The official reader picks the question file with a separate argument; here it is part of the
/// subset: "{length}/{query}" reads one question type, "{length}" every question file present, and a bare "{query}"
/// the layout without a length folder (student_records/{split}/{query}.jsonl).
/// </summary>
public sealed class StudentRecordsFamily : IDatasetFamily
{
    public string Name => "student_records";
    public string Title => "Student Records";
    public string Layout => "student_records/{length}/{split}/context.jsonl + {query}.jsonl";
    public string SubsetForm =>
        $"{{length}}[/{{query}}] with query one of {string.Join(", ", StudentRecordsReader.Queries)}, e.g. 1k/recall (1k alone: every question file present)";
    public bool Generated => true;

    public static string SubsetOf(string length, string query) => length + "/" + query;

    /// <summary>(length folder, question types) of a subset; a question type outside the known ones is an error.</summary>
    static (string Length, string[] Queries) Parse(string subset)
    {
        string s = subset.Replace('\\', '/').Trim('/');
        int slash = s.LastIndexOf('/');
        string last = s[(slash + 1)..];
        if (StudentRecordsReader.Queries.Contains(last)) return (slash >= 0 ? s[..slash] : "", new[] { last });
        if (slash >= 0 && s[..slash].Length > 0 && !s[..slash].Contains('/'))
            throw new PerkException($"student_records subset \"{subset}\": unknown question type \"{last}\" (expected one of {string.Join(", ", StudentRecordsReader.Queries)})");
        if (s.Length == 0 || s.Contains('/') || s is "." or "..")
            throw new PerkException($"student_records subset \"{subset}\": expected {{length}}[/{{query}}], e.g. 1k/recall");
        return (s, StudentRecordsReader.Queries);
    }

    string SplitDir(string dataDir, string length, string split) =>
        length.Length == 0 ? Path.Combine(dataDir, Name, split) : Path.Combine(dataDir, Name, length, split);

    public IReadOnlyList<string> Subsets(string dataDir)
    {
        var list = new List<string>();
        string root = Path.Combine(dataDir, Name);
        if (!Directory.Exists(root)) return list;
        void Add(string length, string dir)
        {
            var qs = StudentRecordsReader.Queries.Where(q => DatasetRegistry.Splits.Any(s => File.Exists(Path.Combine(dir, s, q + ".jsonl")))).ToList();
            if (qs.Count == 0) return;
            if (length.Length > 0) list.Add(length);
            list.AddRange(qs.Select(q => length.Length > 0 ? SubsetOf(length, q) : q));
        }
        Add("", root);
        foreach (var d in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            if (!DatasetRegistry.Splits.Contains(Path.GetFileName(d))) Add(Path.GetFileName(d), d);
        return list;
    }

    public IReadOnlyList<string> Files(string dataDir, string subset, string split)
    {
        DatasetRegistry.CheckSplit(split);
        var (length, queries) = Parse(subset);
        string dir = SplitDir(dataDir, length, split);
        return queries.Prepend("context").Select(q => Path.Combine(dir, q + ".jsonl")).ToList();
    }

    public bool Exists(string dataDir, string subset, string split)
    {
        var files = Files(dataDir, subset, split);
        return File.Exists(files[0]) && files.Skip(1).Any(File.Exists);
    }

    public List<PerkExample> Read(string dataDir, string subset, string split)
    {
        var files = Files(dataDir, subset, split);
        var present = files.Skip(1).Where(File.Exists).ToList();
        if (!File.Exists(files[0]) || present.Count == 0)
            throw DatasetRegistry.Missing(this, dataDir, subset, File.Exists(files[0]) ? files[1] : files[0]);
        var (length, _) = Parse(subset);
        string dir = Path.GetDirectoryName(files[0])!;
        return present.SelectMany(f => StudentRecordsReader.Read(dir, Path.GetFileNameWithoutExtension(f), length)).ToList();
    }

    /// <summary>A question file beside a context.jsonl: {length}/{split}/{query}.jsonl (context.jsonl itself is not a set).</summary>
    public DataSet? Recognize(string file)
    {
        string full = Path.GetFullPath(file);
        string query = Path.GetFileNameWithoutExtension(full), splitDir = Path.GetDirectoryName(full)!;
        if (!File.Exists(Path.Combine(splitDir, "context.jsonl")) || !StudentRecordsReader.Queries.Contains(query)) return null;
        string split = Path.GetFileName(splitDir);
        string? lengthDir = Path.GetDirectoryName(splitDir);
        string length = lengthDir == null || Path.GetFileName(lengthDir) == Name ? "" : Path.GetFileName(lengthDir);
        string? familyDir = length.Length == 0 ? lengthDir : Path.GetDirectoryName(lengthDir);
        string? dataDir = familyDir != null && Path.GetFileName(familyDir) == Name && DatasetRegistry.Splits.Contains(split) ? Path.GetDirectoryName(familyDir) : null;
        string subset = length.Length > 0 ? SubsetOf(length, query) : query;
        return new DataSet(file, this, dataDir, subset, split, () => StudentRecordsReader.Read(splitDir, query, length));
    }

    public (string Task, int Length) TaskOf(string subset)
    {
        var (length, queries) = Parse(subset);
        int bucket = length.EndsWith('k') && int.TryParse(length[..^1], out int n) ? n * 1024 : 0;
        return (queries.Length == 1 ? Name + "/" + queries[0] : Name, bucket);
    }
}
