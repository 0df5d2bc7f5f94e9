namespace PerkSharp.Data;

/// <summary>BabiLong (DATASETS.md §1.1, §3): babilong/qa{t}_{length}/{split}.jsonl, tasks qa1..qa5.</summary>
public sealed class BabiLongFamily : OfficialLayoutFamily
{
    public const int Tasks = 5;

    public override string Name => "babilong";
    public override string Title => "BabiLong";
    public override string SubsetForm => $"qa{{1-{Tasks}}}_{{length}} with length one of {string.Join(", ", LengthBudget.Names)}, e.g. qa1_1k";

    /// <summary>The official subset name, e.g. qa2_8k.</summary>
    public static string SubsetOf(int task, string length) => $"qa{task}_{length}";

    /// <summary>bAbI task t of "babilong/qa{t}" or of its table name "qa{t}" (EvalHarness.TaskName), else 0.</summary>
    int TaskNumber(string task)
    {
        string t = task.StartsWith(Name + "/", StringComparison.Ordinal) ? task[(Name.Length + 1)..] : task;
        return t.StartsWith("qa", StringComparison.Ordinal) && int.TryParse(t[2..], out int n) && n is >= 1 and <= Tasks ? n : 0;
    }

    public override IReadOnlyList<string>? Labels(string task) => TaskNumber(task) is int t and > 0 ? BabiVocabulary.Labels(t) : null;

    // qa1 and qa2 answer with one of six rooms (BabiVocabulary.Locations); the other tasks' answer sets are wider.
    public override double? Chance(string task) => TaskNumber(task) is 1 or 2 ? 1.0 / 6 : null;
}

/// <summary>
/// LongGorilla (DATASETS.md §1.3, §6): longgorilla/{hub}_api[_{location}]/{split}.jsonl. Subsets written per gold
/// placement ("huggingface_api_pre") belong to the task of their hub ("longgorilla/huggingface_api").
/// </summary>
public sealed class LongGorillaFamily : OfficialLayoutFamily
{
    public override string Name => "longgorilla";
    public override string Title => "LongGorilla";
    public override string SubsetForm =>
        $"{{hub}}_api_{{location}} with hub one of {string.Join(", ", GorillaData.Hubs)} and location one of {string.Join(", ", LongGorillaGenerator.Locations)} (or {{hub}}_api), e.g. huggingface_api_pre";

    public static string SubsetOf(string hub, string location) => $"{hub}_api_{location}";

    public override (string Task, int Length) TaskOf(string subset)
    {
        int us = subset.LastIndexOf('_');
        if (us >= 0 && LongGorillaGenerator.Locations.Contains(subset[(us + 1)..])) return (Name + "/" + subset[..us], 0);
        return base.TaskOf(subset);
    }
}

/// <summary>
/// Users' own JSONL (<see cref="GenericReader"/>): jsonl/{subset}/{split}.jsonl, and any other .jsonl file found
/// under a searched folder.
/// </summary>
public sealed class JsonlFamily : OfficialLayoutFamily
{
    public override string Name => "jsonl";
    public override string Title => "your JSONL";
    public override string SubsetForm => "any folder name";
    public override bool Generated => false;

    protected override List<PerkExample> ReadFile(string file, string subset) => GenericReader.Read(file);

    public override (string Task, int Length) TaskOf(string subset) => ("custom", 0);

    /// <summary>A .jsonl file outside every family's layout: read as users' JSONL.</summary>
    public DataSet Loose(string file, string name) =>
        new(name, this, null, "", Path.GetFileNameWithoutExtension(file), () => GenericReader.Read(file));
}
