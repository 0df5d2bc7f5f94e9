using System.Text.RegularExpressions;

namespace PerkSharp.Evaluation;

/// <summary>
/// Okapi BM25 (k1 = 1.2, b = 0.75, Lucene's idf = ln(1 + (N - df + 0.5)/(df + 0.5))) over the segments of one
/// context. Own code rather than Lucene.Net: each context is a throw-away index of a few dozen segments, for which
/// ~50 lines are simpler and faster than building a Lucene directory per example.
/// </summary>
public sealed partial class Bm25
{
    readonly List<Dictionary<string, int>> _tf = new();
    readonly Dictionary<string, int> _df = new(StringComparer.Ordinal);
    readonly int[] _len;
    readonly double _avgLen;
    readonly double _k1, _b;

    public Bm25(IReadOnlyList<string> documents, double k1 = 1.2, double b = 0.75)
    {
        _k1 = k1; _b = b;
        _len = new int[documents.Count];
        for (int i = 0; i < documents.Count; i++)
        {
            var tf = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var t in Tokenize(documents[i])) { tf[t] = tf.GetValueOrDefault(t) + 1; _len[i]++; }
            foreach (var t in tf.Keys) _df[t] = _df.GetValueOrDefault(t) + 1;
            _tf.Add(tf);
        }
        _avgLen = documents.Count == 0 ? 1 : Math.Max(1e-9, _len.Average());
    }

    /// <summary>Lower-cased word tokens (letters/digits).</summary>
    public static IEnumerable<string> Tokenize(string text) => Word().Matches(text).Select(m => m.Value.ToLowerInvariant());

    /// <summary>BM25 score of every document for <paramref name="query"/>.</summary>
    public double[] Scores(string query)
    {
        var q = Tokenize(query).Distinct().ToList();
        int n = _tf.Count;
        var s = new double[n];
        foreach (var term in q)
        {
            if (!_df.TryGetValue(term, out int df)) continue;
            double idf = Math.Log(1 + (n - df + 0.5) / (df + 0.5));
            for (int i = 0; i < n; i++)
            {
                if (!_tf[i].TryGetValue(term, out int f)) continue;
                s[i] += idf * f * (_k1 + 1) / (f + _k1 * (1 - _b + _b * _len[i] / _avgLen));
            }
        }
        return s;
    }

    /// <summary>Indices of the top <paramref name="k"/> documents, in their original (context) order.</summary>
    public int[] TopK(string query, int k)
    {
        var s = Scores(query);
        return Enumerable.Range(0, s.Length).OrderByDescending(i => s[i]).ThenBy(i => i).Take(k).OrderBy(i => i).ToArray();
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();
}
