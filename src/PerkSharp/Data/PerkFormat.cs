namespace PerkSharp.Data;

/// <summary>
/// The exact strings of docs/DESIGN.md (official collator at commit 9b1a918). Inner (context) sequence per
/// segment: prompt "doc_{id}:" and completion " {text}{eos}" — the loss covers the completion only. Outer sequence:
/// prompt "You have memorized {n} documents.\n{question}\nAnswer:" and completion " {target}{eos}".
/// </summary>
public static class PerkFormat
{
    /// <summary>Prompt part of a context segment (loss-masked).</summary>
    public static string SegmentPrompt(int docId) => $"doc_{docId}:";

    /// <summary>Completion part of a context segment (trained on), including the separating space and end-of-text.</summary>
    public static string SegmentCompletion(string text, string eos) => " " + text + eos;

    /// <summary>The question prompt; the context is never in it.</summary>
    public static string QuestionPrompt(int numDocuments, string question) =>
        $"You have memorized {numDocuments} documents.\n{question}\nAnswer:";

    /// <summary>The answer target without end-of-text: tagged with support when there is support, else the bare answer.</summary>
    public static string Target(string answer, IReadOnlyList<string>? support) =>
        support is { Count: > 0 }
            ? $"<support>{string.Join("\n", support)}</support>\n<output>{answer}</output>"
            : answer;

    /// <summary>Completion part of the outer sequence: space, target, end-of-text.</summary>
    public static string AnswerCompletion(string answer, IReadOnlyList<string>? support, string eos) =>
        " " + Target(answer, support) + eos;

    /// <summary>
    /// Document ids for the segments: a random permutation in training (facts keep their order, only labels move),
    /// sequential 0..n-1 otherwise.
    /// </summary>
    public static int[] DocIds(int n, Random? shuffle)
    {
        var ids = Enumerable.Range(0, n).ToArray();
        if (shuffle != null) shuffle.Shuffle(ids);
        return ids;
    }
}
