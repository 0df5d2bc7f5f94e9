using System.Globalization;
using System.Text;

namespace PerkSharp.Data;

/// <summary>
/// Summary statistics of a set of examples: counts, context length in GPT-2 tokens (all segments), segments per
/// example and the answer distribution (`perk data stats`).
/// </summary>
public sealed record DatasetStats(
    string Name, int Count, int MinTokens, int MedianTokens, double MeanTokens, int MaxTokens,
    int MinSegments, double MeanSegments, int MaxSegments, int DistinctAnswers, IReadOnlyList<(string Answer, int Count)> TopAnswers)
{
    /// <summary>Computes the statistics (token counts use the cached GPT-2 tokenizer).</summary>
    public static DatasetStats Compute(string name, IReadOnlyList<PerkExample> examples, int top = 8)
    {
        if (examples.Count == 0) return new DatasetStats(name, 0, 0, 0, 0, 0, 0, 0, 0, 0, Array.Empty<(string, int)>());
        var tokens = examples.Select(e => e.Context.Sum(Gpt2Tokens.Count)).Order().ToArray();
        var segs = examples.Select(e => e.Context.Count).ToArray();
        var answers = examples.GroupBy(e => e.Answer).Select(g => (g.Key, g.Count()))
            .OrderByDescending(x => x.Item2).ThenBy(x => x.Key, StringComparer.Ordinal).ToList();
        return new DatasetStats(name, examples.Count, tokens[0], tokens[tokens.Length / 2], tokens.Average(), tokens[^1],
            segs.Min(), segs.Average(), segs.Max(), answers.Count, answers.Take(top).ToList());
    }

    /// <summary>A few human-readable lines.</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine($"{Name}: {Count} examples");
        sb.AppendLine(string.Create(c, $"  context tokens (GPT-2): min {MinTokens}, median {MedianTokens}, mean {MeanTokens:0.0}, max {MaxTokens}"));
        sb.AppendLine(string.Create(c, $"  segments per example: min {MinSegments}, mean {MeanSegments:0.0}, max {MaxSegments}"));
        sb.Append($"  answers: {DistinctAnswers} distinct; top: ");
        sb.AppendLine(string.Join(", ", TopAnswers.Select(a => string.Create(c, $"{Short(a.Answer)} {a.Count} ({100.0 * a.Count / Count:0.#}%)"))));
        return sb.ToString();
    }

    static string Short(string s) => s.Length > 40 ? s[..37] + "..." : s;
}
