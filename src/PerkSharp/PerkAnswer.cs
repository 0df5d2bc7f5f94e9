using System.Text.RegularExpressions;

namespace PerkSharp;

/// <summary>
/// One answer of <see cref="Perk.Ask(MetaLearning.PerkMemory, string, int?)"/>. A PERK model is trained to reply
/// <c>&lt;support&gt;facts&lt;/support&gt;\n&lt;output&gt;answer&lt;/output&gt;</c> (src/PerkSharp/Data/PerkFormat.cs); the
/// spans are split out here so that callers need not parse tags.
/// </summary>
/// <param name="Question">The question as asked.</param>
/// <param name="Output">
/// The trimmed text of the first closed &lt;output&gt; span; the whole reply when there is none (a model trained on
/// bare answers, or a reply cut off by the token limit), which is also what exact-match scoring compares
/// (src/PerkSharp/Evaluation/PerkMetrics.cs).
/// </param>
/// <param name="Support">The trimmed text of the first closed &lt;support&gt; span, or "" when there is none.</param>
/// <param name="Raw">The whole decoded reply exactly as `perk ask` prints it after "A: ".</param>
public sealed partial record PerkAnswer(string Question, string Output, string Support, string Raw)
{
    /// <summary>Splits a decoded reply into its spans.</summary>
    public static PerkAnswer Parse(string question, string raw)
    {
        var output = OutputSpan().Match(raw);
        var support = SupportSpan().Match(raw);
        return new PerkAnswer(question, output.Success ? output.Groups[1].Value.Trim() : raw,
            support.Success ? support.Groups[1].Value.Trim() : "", raw);
    }

    public override string ToString() => Output;

    // Case-insensitive like the scorer, which lower-cases the reply before it looks for the tag.
    [GeneratedRegex("<output>(.*?)</output>", RegexOptions.Singleline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OutputSpan();

    [GeneratedRegex("<support>(.*?)</support>", RegexOptions.Singleline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SupportSpan();
}
