namespace PerkSharp.Data;

/// <summary>
/// LongGorilla: longgorilla/{hub}_api[_{location}]/{split}.jsonl. Subsets written per gold
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
