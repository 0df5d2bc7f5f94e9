using System.Text;
using System.Text.Json;

namespace PerkSharp.Data;

/// <summary>
/// Renders one Gorilla API doc into a LongGorilla context element (docs/DATA.md): "&lt;api&gt;{api_call}&lt;/api&gt; " +
/// Python str() of the doc without api_call, with every ', { and } deleted, whitespace runs collapsed and trimmed.
/// </summary>
public static class ApiDocRenderer
{
    public static string Render(JsonElement doc)
    {
        string apiCall = doc.TryGetProperty("api_call", out var ac) ? (ac.ValueKind == JsonValueKind.String ? ac.GetString()! : PyRepr.Of(ac)) : "";
        var rest = new StringBuilder("{");
        bool first = true;
        foreach (var p in doc.EnumerateObject())
        {
            if (p.Name == "api_call") continue;
            if (!first) rest.Append(", ");
            first = false;
            rest.Append(PyRepr.Str(p.Name)).Append(": ").Append(PyRepr.Of(p.Value));
        }
        rest.Append('}');
        var stripped = new StringBuilder(rest.Length);
        foreach (char c in rest.ToString())
            if (c is not ('\'' or '{' or '}')) stripped.Append(c);
        return CollapseWhitespace("<api>" + apiCall + "</api> " + stripped);
    }

    /// <summary>Python's " ".join(s.split()).</summary>
    public static string CollapseWhitespace(string s) =>
        string.Join(" ", s.Split(s.Where(IsPyWhitespace).Distinct().ToArray(), StringSplitOptions.RemoveEmptyEntries));

    static bool IsPyWhitespace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';
}
