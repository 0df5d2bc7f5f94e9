namespace PerkSharp.Data;

/// <summary>Finds the data sets under a folder: official JSONL files, Student Records splits, or other JSONL files.</summary>
public static class DataFolder
{
    static readonly string[] Splits = { "train", "validation", "test" };

    /// <summary>(name, loader) for every data set found under <paramref name="path"/> (a folder or one .jsonl file).</summary>
    public static List<(string Name, Func<List<PerkExample>> Load)> Discover(string path)
    {
        var sets = new List<(string, Func<List<PerkExample>>)>();
        if (File.Exists(path))
        {
            sets.Add((path, Loader(path)));
            return sets;
        }
        if (!Directory.Exists(path)) throw new Runtime.PerkException($"{path}: no such file or folder");
        foreach (var file in Directory.GetFiles(path, "*.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            string dir = Path.GetDirectoryName(file)!;
            if (File.Exists(Path.Combine(dir, "context.jsonl")))
            {
                if (!StudentRecordsReader.Queries.Contains(name)) continue;       // context.jsonl itself, unknown files
                string split = Path.GetFileName(dir), subset = Path.GetFileName(Path.GetDirectoryName(dir)!);
                if (subset == "student_records") subset = "";
                sets.Add((Path.GetRelativePath(path, file), () => StudentRecordsReader.Read(dir, name, subset)));
                continue;
            }
            sets.Add((Path.GetRelativePath(path, file), Loader(file)));
        }
        return sets;
    }

    static Func<List<PerkExample>> Loader(string file)
    {
        string name = Path.GetFileNameWithoutExtension(file);
        string dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        string subset = Path.GetFileName(dir), dataset = Path.GetFileName(Path.GetDirectoryName(dir) ?? "");
        if (Splits.Contains(name) && dataset is "babilong" or "longgorilla")
            return () => OfficialReader.ReadFile(file, dataset, subset);
        return () => GenericReader.Read(file);
    }
}
