using System.Text;
using System.Text.RegularExpressions;

namespace PerkSharp.Evaluation;

/// <summary>
/// The official PERK metrics (perk/evaluate.py; docs/DESIGN.md, docs/DATA.md) plus SubEM and BABILong's label
/// accuracy. Quirks kept on purpose: both strings are lower-cased; EM compares the first &lt;output&gt;…&lt;/output&gt;
/// spans, falling back to the whole strings when either lacks the tag; SQuAD normalisation removes punctuation
/// before articles ("don't" → "dont"); F1 uses token *sets* over the whole response and target (support included).
/// </summary>
public static class PerkMetrics
{
    const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    static readonly Regex Output = new("<output>(.*?)</output>", RegexOptions.Singleline | RegexOptions.CultureInvariant);
    static readonly Regex Articles = new(@"\b(a|an|the)\b", RegexOptions.CultureInvariant);

    /// <summary>SQuAD normalisation: lower-case, delete ASCII punctuation, articles → space, collapse whitespace.</summary>
    public static string Normalize(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s.ToLowerInvariant())
            if (AsciiPunctuation.IndexOf(c) < 0) sb.Append(c);
        string noArticles = Articles.Replace(sb.ToString(), " ");
        return string.Join(" ", noArticles.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// The texts EM compares: the trimmed contents of the first &lt;output&gt; span of each (lower-cased), or both whole
    /// lower-cased strings when either has no span.
    /// </summary>
    public static (string Prediction, string Gold) OutputSpans(string response, string target)
    {
        string p = response.ToLowerInvariant(), g = target.ToLowerInvariant();
        var mp = Output.Match(p);
        var mg = Output.Match(g);
        return mp.Success && mg.Success ? (mp.Groups[1].Value.Trim(), mg.Groups[1].Value.Trim()) : (p, g);
    }

    /// <summary>Exact match (1 or 0) of <paramref name="response"/> against the training target.</summary>
    public static double ExactMatch(string response, string target)
    {
        var (p, g) = OutputSpans(response, target);
        return Normalize(p) == Normalize(g) ? 1 : 0;
    }

    /// <summary>Substring exact match: the normalised gold span occurs inside the normalised predicted span.</summary>
    public static double SubExactMatch(string response, string target)
    {
        var (p, g) = OutputSpans(response, target);
        string np = Normalize(p), ng = Normalize(g);
        return np.Contains(ng, StringComparison.Ordinal) ? 1 : 0;
    }

    /// <summary>Token-set F1 over the whole normalised response and target.</summary>
    public static double F1(string response, string target)
    {
        var p = Normalize(response).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var t = Normalize(target).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (p.Length == 0 || t.Length == 0) return p.Length == t.Length ? 1 : 0;
        var ps = p.ToHashSet(StringComparer.Ordinal);
        var ts = t.ToHashSet(StringComparer.Ordinal);
        int common = ps.Count(ts.Contains);
        if (common == 0) return 0;
        double precision = common / (double)p.Length, recall = common / (double)t.Length;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>
    /// BABILong's label check (metrics.py): the output is lower-cased and cut before the first '.', "&lt;context&gt;" and
    /// "&lt;example&gt;"; the labels found in it as substrings, minus labels that occur in the question, must be exactly
    /// the target's labels (comma-separated for multi-answer targets).
    /// </summary>
    public static bool BabilongLabelCorrect(string output, string target, string question, IEnumerable<string> labels)
    {
        string o = output.ToLowerInvariant();
        foreach (var cut in new[] { ".", "<context>", "<example>" })
        {
            int i = o.IndexOf(cut, StringComparison.Ordinal);
            if (i >= 0) o = o[..i];
        }
        string q = question.ToLowerInvariant();
        var lower = labels.Select(l => l.ToLowerInvariant()).ToList();
        var found = lower.Where(l => o.Contains(l, StringComparison.Ordinal) && !q.Contains(l, StringComparison.Ordinal)).ToHashSet();
        var want = target.ToLowerInvariant().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        return found.SetEquals(want);
    }

    /// <summary>BABILong label check applied to the &lt;output&gt; content of a response (whole response when untagged).</summary>
    public static bool BabilongLabelCorrectOnOutput(string response, string answer, string question, IEnumerable<string> labels)
    {
        var m = Output.Match(response);
        return BabilongLabelCorrect(m.Success ? m.Groups[1].Value : response, answer, question, labels);
    }
}
