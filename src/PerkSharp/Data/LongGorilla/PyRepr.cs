using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace PerkSharp.Data;

/// <summary>
/// Python's <c>str()</c> of a JSON value loaded with <c>json.loads</c> (dict/list/str/int/float/bool/None), needed to
/// reproduce LongGorilla's API-doc rendering byte for byte (docs/DATA.md). Hand-written: no .NET library prints
/// Python reprs.
/// </summary>
public static class PyRepr
{
    public static string Of(JsonElement v)
    {
        var sb = new StringBuilder();
        Write(sb, v);
        return sb.ToString();
    }

    static void Write(StringBuilder sb, JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                bool first = true;
                foreach (var p in v.EnumerateObject())
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(Str(p.Name)).Append(": ");
                    Write(sb, p.Value);
                }
                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                int i = 0;
                foreach (var e in v.EnumerateArray())
                {
                    if (i++ > 0) sb.Append(", ");
                    Write(sb, e);
                }
                sb.Append(']');
                break;
            case JsonValueKind.String: sb.Append(Str(v.GetString()!)); break;
            case JsonValueKind.Number: sb.Append(Number(v.GetRawText())); break;
            case JsonValueKind.True: sb.Append("True"); break;
            case JsonValueKind.False: sb.Append("False"); break;
            default: sb.Append("None"); break;
        }
    }

    /// <summary>A JSON number literal as Python prints the int or float json.loads makes of it.</summary>
    public static string Number(string raw)
    {
        if (raw.IndexOfAny(new[] { '.', 'e', 'E' }) < 0) return BigInteger.Parse(raw, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        return Float(double.Parse(raw, CultureInfo.InvariantCulture));
    }

    /// <summary>Python float repr: shortest round-trip digits; exponent form when decpt &lt;= -4 or decpt &gt; 16.</summary>
    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        string sign = d < 0 || (d == 0 && double.IsNegative(d)) ? "-" : "";
        if (d == 0) return sign + "0.0";
        // "E16" is not shortest; "R" is (since .NET Core 3.0). Extract digits and exponent from it.
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int exp = 0, e = r.IndexOfAny(new[] { 'E', 'e' });
        if (e >= 0) { exp = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture); r = r[..e]; }
        int dot = r.IndexOf('.');
        string intPart = dot >= 0 ? r[..dot] : r, frac = dot >= 0 ? r[(dot + 1)..] : "";
        string digits = (intPart + frac).TrimStart('0');
        int lead = (intPart + frac).Length - digits.Length;
        int decpt = intPart.Length + exp - lead;              // value = 0.digits × 10^decpt
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        string body;
        if (decpt <= -4 || decpt > 16)
        {
            string mant = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            int x = decpt - 1;
            body = mant + "e" + (x < 0 ? "-" : "+") + Math.Abs(x).ToString("00", CultureInfo.InvariantCulture);
        }
        else if (decpt <= 0) body = "0." + new string('0', -decpt) + digits;
        else if (decpt >= digits.Length) body = digits + new string('0', decpt - digits.Length) + ".0";
        else body = digits[..decpt] + "." + digits[decpt..];
        return sign + body;
    }

    /// <summary>Python repr of a str: quote choice, escapes of \\, quote, \n \r \t and non-printable characters.</summary>
    public static string Str(string s)
    {
        char q = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(q);
        foreach (var rune in s.EnumerateRunes())
        {
            int c = rune.Value;
            if (c == q || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (c < 0x7f || IsPrintable(rune)) sb.Append(rune.ToString());
            else if (c <= 0xff) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (c <= 0xffff) sb.Append("\\u").Append(c.ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append("\\U").Append(c.ToString("x8", CultureInfo.InvariantCulture));
        }
        return sb.Append(q).ToString();
    }

    // Python's str.isprintable: not Cc, Cf, Cs, Co, Cn, Zl, Zp, or Zs other than ' '.
    static bool IsPrintable(Rune r) => Rune.GetUnicodeCategory(r) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator => false,
        _ => true,
    };
}
