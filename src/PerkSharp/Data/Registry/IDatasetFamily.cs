using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// One task family (BabiLong, Student Records, LongGorilla, users' JSONL): its folder under data_dir, the shape of
/// its subset names, the files one (subset, split) occupies and how they are read. <c>perk data generate</c> writes
/// through <see cref="Files"/>, and <c>perk train</c>, <c>perk eval</c>, <c>perk check data</c> and
/// <c>perk data stats</c> read through <see cref="Read"/> or <see cref="Recognize"/>, so the layout lives here once.
/// </summary>
public interface IDatasetFamily
{
    /// <summary>dataset_name in configs, --task of data generate, and the folder under data_dir.</summary>
    string Name { get; }

    string Title { get; }

    /// <summary>The files of one subset and split, relative to data_dir (e.g. "babilong/{subset}/{split}.jsonl").</summary>
    string Layout { get; }

    /// <summary>The shape of a subset name, for help and errors (e.g. "qa{1-5}_{length}, e.g. qa1_1k").</summary>
    string SubsetForm { get; }

    /// <summary>Whether <c>perk data generate</c> writes this family (users' JSONL is only read).</summary>
    bool Generated { get; }

    /// <summary>The subsets present under <paramref name="dataDir"/> (sorted; empty when the family folder is absent).</summary>
    IReadOnlyList<string> Subsets(string dataDir);

    /// <summary>The files of one subset and split, as data generate writes them (a malformed subset is a PerkException).</summary>
    IReadOnlyList<string> Files(string dataDir, string subset, string split);

    /// <summary>Whether the files <see cref="Read"/> needs are present.</summary>
    bool Exists(string dataDir, string subset, string split);

    /// <summary>The examples of one subset and split; a missing file names the layout and the subsets that exist.</summary>
    List<PerkExample> Read(string dataDir, string subset, string split);

    /// <summary>The data set a file found on disk belongs to, or null when it is not one of this family's files.</summary>
    DataSet? Recognize(string file);

    /// <summary>The task name and length bucket examples of a subset get (e.g. qa1_1k → babilong/qa1, 1024).</summary>
    (string Task, int Length) TaskOf(string subset);

    /// <summary>The closed answer set of a task as evaluation tables name it (after <c>EvalHarness.TaskName</c>), if any.</summary>
    IReadOnlyList<string>? Labels(string task) => null;

    /// <summary>EM of a uniform guess for a task (as tables name it), or null when the answer set is not pinned down.</summary>
    double? Chance(string task) => null;
}

/// <summary>
/// One (family, subset, split) found on disk or named by a config. <paramref name="Name"/> is what tables and eval
/// folder names show (the file's path relative to the folder searched); <paramref name="DataDir"/> is null for files
/// outside a family's layout (users' loose JSONL).
/// </summary>
public sealed record DataSet(string Name, IDatasetFamily Family, string? DataDir, string Subset, string Split, Func<List<PerkExample>> Load);

/// <summary>The layout shared by BabiLong, LongGorilla and users' JSONL: {family}/{subset}/{split}.jsonl.</summary>
public abstract class OfficialLayoutFamily : IDatasetFamily
{
    public abstract string Name { get; }
    public abstract string Title { get; }
    public abstract string SubsetForm { get; }
    public virtual bool Generated => true;
    public string Layout => Name + "/{subset}/{split}.jsonl";

    public IReadOnlyList<string> Subsets(string dataDir)
    {
        string dir = Path.Combine(dataDir, Name);
        if (!Directory.Exists(dir)) return Array.Empty<string>();
        return Directory.GetDirectories(dir).Where(d => DatasetRegistry.Splits.Any(s => File.Exists(Path.Combine(d, s + ".jsonl"))))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;
    }

    public IReadOnlyList<string> Files(string dataDir, string subset, string split)
    {
        DatasetRegistry.CheckSplit(split);
        if (subset.Length == 0 || subset.Contains('/') || subset.Contains('\\') || subset is "." or "..")
            throw new PerkException($"{Name} subset \"{subset}\": expected one folder name, {SubsetForm}");
        return new[] { Path.Combine(dataDir, Name, subset, split + ".jsonl") };
    }

    public bool Exists(string dataDir, string subset, string split) => File.Exists(Files(dataDir, subset, split)[0]);

    public List<PerkExample> Read(string dataDir, string subset, string split)
    {
        string file = Files(dataDir, subset, split)[0];
        if (!File.Exists(file)) throw DatasetRegistry.Missing(this, dataDir, subset, file);
        return ReadFile(file, subset);
    }

    public DataSet? Recognize(string file)
    {
        string full = Path.GetFullPath(file);
        string split = Path.GetFileNameWithoutExtension(full), subsetDir = Path.GetDirectoryName(full)!;
        string? familyDir = Path.GetDirectoryName(subsetDir);
        if (!DatasetRegistry.Splits.Contains(split) || familyDir == null || Path.GetFileName(familyDir) != Name) return null;
        string subset = Path.GetFileName(subsetDir);
        return new DataSet(file, this, Path.GetDirectoryName(familyDir), subset, split, () => ReadFile(file, subset));
    }

    /// <summary>Official records ("_Nk" in the subset name is the length bucket); users' JSONL overrides this.</summary>
    protected virtual List<PerkExample> ReadFile(string file, string subset)
    {
        var (task, length) = TaskOf(subset);
        return OfficialReader.ReadFile(file, subset, task, length);
    }

    public virtual (string Task, int Length) TaskOf(string subset) => DatasetRegistry.OfficialTaskOf(Name, subset);

    public virtual IReadOnlyList<string>? Labels(string task) => null;
    public virtual double? Chance(string task) => null;
}
