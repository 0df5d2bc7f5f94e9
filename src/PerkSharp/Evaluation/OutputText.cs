using System.Text.RegularExpressions;
using PerkSharp.Tokenization;

namespace PerkSharp.Evaluation;

/// <summary>Decoded model output as text for scoring.</summary>
public static partial class OutputText
{
    /// <summary>
    /// Text of generated ids. A WordLevel vocabulary decodes by joining tokens with spaces (as HF does), which splits
    /// tags such as "&lt;output&gt;" into "&lt; output &gt;"; this re-attaches punctuation so that answers are scored on
    /// the text the model meant. Other tokenizers decode exactly and are left alone.
    /// </summary>
    public static string Decode(ITokenizer tok, IEnumerable<int> ids) => Clean(tok, tok.Decode(ids));

    /// <summary>The cleaning of <see cref="Decode"/> applied to already decoded text.</summary>
    public static string Clean(ITokenizer tok, string decoded)
    {
        string s = decoded.Trim();
        if (tok is not WordLevelTokenizer) return s;
        s = SpaceBeforePunct().Replace(s, "$1");
        s = SpaceAfterOpen().Replace(s, "$1");
        return s;
    }

    [GeneratedRegex(@" ([.,:;?!)]|</|>)")]
    private static partial Regex SpaceBeforePunct();

    [GeneratedRegex(@"(<|</|>|\() ")]
    private static partial Regex SpaceAfterOpen();
}
