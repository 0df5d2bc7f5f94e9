namespace PerkSharp.Data;

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
