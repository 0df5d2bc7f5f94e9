namespace PerkSharp.Data;

/// <summary>BabiLong: babilong/qa{t}_{length}/{split}.jsonl, tasks qa1..qa5.</summary>
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
