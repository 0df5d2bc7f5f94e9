namespace PerkSharp.Data;

/// <summary>
/// Rule-based sentence splitter replacing NLTK Punkt (docs/DATA.md): a sentence ends after '.', '!' or '?',
/// optionally followed by closing quotes/brackets, when whitespace and then an uppercase letter or an opening quote
/// follow. No cut after common abbreviations (Mr. Mrs. Dr. …) or single capital initials ("J."); ';' is no boundary.
/// </summary>
public static class SentenceSplitter
{
    static readonly HashSet<string> Abbreviations = new(StringComparer.Ordinal)
    {
        "Mr", "Mrs", "Ms", "Dr", "St", "Col", "Capt", "Gen", "Sir", "Lt", "Rev", "No", "vs", "etc", "i.e", "e.g",
    };

    const string Closers = "\"'”’)]»";
    const string Openers = "\"'“‘([«";

    /// <summary>Start offsets and lengths of the sentences of <paramref name="text"/> (trimmed, in order).</summary>
    public static List<(int Start, int Length)> Spans(string text)
    {
        var spans = new List<(int, int)>();
        int start = SkipSpace(text, 0);
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '.' && c != '!' && c != '?') continue;
            int end = i + 1;
            while (end < text.Length && Closers.IndexOf(text[end]) >= 0) end++;
            if (end >= text.Length || !char.IsWhiteSpace(text[end])) continue;
            int next = SkipSpace(text, end);
            if (next >= text.Length) break;
            char n = text[next];
            if (!char.IsUpper(n) && Openers.IndexOf(n) < 0) continue;
            if (c == '.' && IsAbbreviation(text, i)) continue;
            spans.Add((start, end - start));
            start = next;
            i = next - 1;
        }
        int last = text.Length;
        while (last > start && char.IsWhiteSpace(text[last - 1])) last--;
        if (last > start) spans.Add((start, last - start));
        return spans;
    }

    /// <summary>The sentences of <paramref name="text"/>.</summary>
    public static List<string> Split(string text) => Spans(text).Select(s => text.Substring(s.Start, s.Length)).ToList();

    static int SkipSpace(string s, int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        return i;
    }

    // The word before the '.' at `dot`: an abbreviation from the list or a single capital initial.
    static bool IsAbbreviation(string text, int dot)
    {
        int b = dot;
        while (b > 0 && (char.IsLetter(text[b - 1]) || text[b - 1] == '.')) b--;
        string word = text[b..dot];
        if (word.Length == 1 && char.IsUpper(word[0])) return true;
        return Abbreviations.Contains(word);
    }
}
