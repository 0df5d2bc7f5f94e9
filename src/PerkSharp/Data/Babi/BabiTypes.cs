namespace PerkSharp.Data;

/// <summary>bAbI action types (docs/DATA.md); Relation is a QA4 spatial fact.</summary>
public enum BabiAction { Move, Get, Drop, Give, Relation }

/// <summary>One story statement. <see cref="Agent"/> is the sentence subject (the giver for Give; "" for QA4).</summary>
public sealed record BabiFact(int Index, BabiAction Action, string Agent, string Text,
    string? Location = null, string? Object = null, string? Recipient = null);

/// <summary>A question asked after the first <see cref="FactCount"/> statements, with support fact indices.</summary>
public sealed record BabiQuestion(int FactCount, string Text, string Answer, IReadOnlyList<int> Support);

/// <summary>A bAbI story: statements with interleaved questions (5 per story for QA1–3 and QA5, 1 for QA4).</summary>
public sealed record BabiStory(int Task, IReadOnlyList<BabiFact> Facts, IReadOnlyList<BabiQuestion> Questions);

/// <summary>
/// One bAbI sample: all statements from the story's start up to the question, the question, its answer and
/// the supporting fact indices (into <see cref="Facts"/>, in story order).
/// </summary>
public sealed record BabiSample(int Task, IReadOnlyList<BabiFact> Facts, string Question, string Answer, IReadOnlyList<int> Support)
{
    /// <summary>The "{A} Event {k}: " annotation: k = number of earlier facts with the same subject.</summary>
    public IReadOnlyList<string> AnnotatedFacts()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<string>(Facts.Count);
        foreach (var f in Facts)
        {
            if (f.Agent.Length == 0) { list.Add(f.Text); continue; }     // QA4: no agent, left unannotated
            counts.TryGetValue(f.Agent, out int k);
            counts[f.Agent] = k + 1;
            list.Add($"{f.Agent} Event {k}: {f.Text}");
        }
        return list;
    }
}

/// <summary>The closed bAbI world vocabulary and the answer label sets.</summary>
public static class BabiVocabulary
{
    public static readonly string[] Agents = { "Mary", "John", "Daniel", "Sandra" };
    public static readonly string[] Qa5Agents = { "Bill", "Fred", "Jeff", "Mary" };
    public static readonly string[] Locations = { "bathroom", "bedroom", "garden", "hallway", "kitchen", "office" };
    public static readonly string[] Objects = { "apple", "football", "milk" };

    /// <summary>Answer labels used by BABILong's scoring for a task (1–5).</summary>
    public static IReadOnlyList<string> Labels(int task) =>
        task == 5 ? Qa5Agents.Concat(Objects).ToArray() : Locations;

    public static IReadOnlyList<string> AgentsOf(int task) => task == 5 ? Qa5Agents : Agents;
}
