namespace PerkSharp.Data;

/// <summary>Cuts a GPT-2 token stream into text windows ("segments") of about W tokens each.</summary>
public static class TokenWindows
{
    /// <summary>
    /// Windows of <paramref name="width"/> tokens (the last may be shorter), decoded and trimmed. A boundary that
    /// would split a multi-byte character (decoded as U+FFFD) moves right by up to 3 tokens.
    /// </summary>
    public static List<string> Cut(IReadOnlyList<int> ids, int width)
    {
        var list = new List<string>();
        int start = 0;
        while (start < ids.Count)
        {
            int end = Math.Min(ids.Count, start + width);
            string text = Decode(ids, start, end);
            for (int extra = 0; extra < 3 && end < ids.Count && text.EndsWith('\uFFFD'); extra++)
                text = Decode(ids, start, ++end);
            text = text.Trim();
            if (text.Length > 0) list.Add(text);
            start = end;
        }
        return list;
    }

    static string Decode(IReadOnlyList<int> ids, int start, int end)
    {
        var slice = new int[end - start];
        for (int i = start; i < end; i++) slice[i - start] = ids[i];
        return Gpt2Tokens.Decode(slice);
    }
}
