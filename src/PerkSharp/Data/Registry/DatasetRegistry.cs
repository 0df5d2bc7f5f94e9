using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// Every dataset family PerkSharp reads or writes, by dataset_name. Commands resolve names, layouts and readers here
/// and nowhere else, so a family added to <see cref="Families"/> is generated, trained on and evaluated alike.
/// </summary>
public static class DatasetRegistry
{
    public static readonly string[] Splits = { "train", "validation", "test" };

    public static readonly BabiLongFamily BabiLong = new();
    public static readonly StudentRecordsFamily StudentRecords = new();
    public static readonly LongGorillaFamily LongGorilla = new();
    public static readonly JsonlFamily Jsonl = new();

    /// <summary>In recognition order: Student Records first (its files sit beside a context.jsonl), users' JSONL last.</summary>
    public static readonly IReadOnlyList<IDatasetFamily> Families = new IDatasetFamily[] { StudentRecords, BabiLong, LongGorilla, Jsonl };

    public static IEnumerable<string> Names => Families.Select(f => f.Name);

    public static IDatasetFamily? Find(string name) => Families.FirstOrDefault(f => f.Name == name.Trim().ToLowerInvariant());

    /// <summary>The family called <paramref name="name"/>; an unknown name is one line listing the families.</summary>
    public static IDatasetFamily Get(string name, string what = "dataset_name", bool generatedOnly = false)
    {
        var f = Find(name);
        if (f != null && (!generatedOnly || f.Generated)) return f;
        var known = Families.Where(x => !generatedOnly || x.Generated).Select(x => $"{x.Name} ({x.Layout})");
        throw new PerkException($"{what} {name}: unknown dataset; expected one of {string.Join(", ", known)}");
    }

    /// <summary>
    /// One subset and split by name, as a training config names it (dataset_name, dataset_subset, data_dir). Nothing
    /// is read until <see cref="DataSet.Load"/>; a malformed name fails here.
    /// </summary>
    public static DataSet Open(string dataDir, string name, string subset, string split)
    {
        var f = Get(name);
        f.Files(dataDir, subset, split);
        return new DataSet($"{f.Name}/{subset}/{split}", f, dataDir, subset, split, () => f.Read(dataDir, subset, split));
    }

    /// <summary>
    /// The data sets under <paramref name="path"/> (a folder, searched recursively, or one file): each .jsonl file goes
    /// to the first family that recognises it, and any other .jsonl file is read as users' JSONL. Links inside the
    /// folder are not followed (<see cref="DataFiles"/>).
    /// </summary>
    public static List<DataSet> Discover(string path)
    {
        if (File.Exists(path)) return new List<DataSet> { Recognize(path, path) ?? Jsonl.Loose(path, path) };
        if (!Directory.Exists(path)) throw new PerkException($"{path}: no such file or folder");
        var sets = new List<DataSet>();
        foreach (var file in DataFiles.Under(path))
        {
            string name = Path.GetRelativePath(path, file);
            if (Recognize(file, name) is { } set) sets.Add(set);
            else if (!File.Exists(Path.Combine(Path.GetDirectoryName(file)!, "context.jsonl"))) sets.Add(Jsonl.Loose(file, name));
            // else: context.jsonl itself or an unknown file in a Student Records split folder
        }
        return sets;
    }

    static DataSet? Recognize(string file, string name)
    {
        foreach (var f in Families)
            if (f.Recognize(file) is { } set) return set with { Name = name };
        return null;
    }

    public static void CheckSplit(string split)
    {
        if (!Splits.Contains(split)) throw new PerkException($"split \"{split}\": expected train, validation or test");
    }

    /// <summary>The one-line error for a subset or file that is not there: the layout, the subset form, what exists.</summary>
    public static PerkException Missing(IDatasetFamily f, string dataDir, string subset, string file)
    {
        var present = f.Subsets(dataDir);
        string have = present.Count > 0 ? $"subsets under {Path.Combine(dataDir, f.Name)}: {string.Join(", ", present)}"
            : $"no {f.Name} data under {dataDir}" + (f.Generated ? $" (perk data generate --task {f.Name} --out {dataDir})" : "");
        return new PerkException($"{file}: file not found ({f.Title} subset \"{subset}\"; layout {f.Layout}; subsets are {f.SubsetForm}; {have})");
    }

    /// <summary>Task name and length bucket of an official subset name: "{task}_{N}k" → ("{dataset}/{task}", N×1024).</summary>
    public static (string Task, int Length) OfficialTaskOf(string dataset, string subset)
    {
        int us = subset.LastIndexOf('_');
        int length = us >= 0 && subset.EndsWith('k') && int.TryParse(subset[(us + 1)..^1], out int n) ? n * 1024 : 0;
        string name = us >= 0 && length > 0 ? subset[..us] : subset;
        return (dataset + "/" + name, length);
    }

    /// <summary>(task, length) for a family by name; names outside the registry keep the official naming.</summary>
    public static (string Task, int Length) TaskOf(string dataset, string subset) =>
        Find(dataset)?.TaskOf(subset) ?? OfficialTaskOf(dataset, subset);

    /// <summary>The closed answer set of a task ("babilong/qa1" or its table name "qa1"), from the family that declares one.</summary>
    public static IReadOnlyList<string>? Labels(string task) => Families.Select(f => f.Labels(task)).FirstOrDefault(l => l != null);

    /// <summary>Chance EM of a table task name, from the family that declares it.</summary>
    public static double? Chance(string task) => Families.Select(f => f.Chance(task)).FirstOrDefault(c => c != null);
}
