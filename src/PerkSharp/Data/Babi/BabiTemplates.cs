using System.Text.RegularExpressions;

namespace PerkSharp.Data;

/// <summary>
/// Surface templates of the bAbI v1.2 release wording (docs/DATA.md): one chosen uniformly per statement, every
/// statement ends with '.'; get/drop append " there" with p = 0.5.
/// </summary>
public static class BabiTemplates
{
    public static readonly string[] Move = { "{A} moved to the {L}", "{A} went to the {L}", "{A} journeyed to the {L}", "{A} travelled to the {L}", "{A} went back to the {L}" };
    public static readonly string[] Get = { "{A} got the {O}", "{A} took the {O}", "{A} grabbed the {O}", "{A} picked up the {O}" };
    public static readonly string[] Drop = { "{A} dropped the {O}", "{A} put down the {O}", "{A} discarded the {O}", "{A} left the {O}" };
    public static readonly string[] Give = { "{A} gave the {O} to {R}", "{A} passed the {O} to {R}", "{A} handed the {O} to {R}" };

    public static string RenderMove(PerkRandom rng, string a, string l) => Fill(rng.Pick(Move), a, l, null, null) + ".";

    public static string RenderGet(PerkRandom rng, string a, string o) =>
        Fill(rng.Pick(Get), a, null, o, null) + (rng.Coin() ? " there" : "") + ".";

    public static string RenderDrop(PerkRandom rng, string a, string o) =>
        Fill(rng.Pick(Drop), a, null, o, null) + (rng.Coin() ? " there" : "") + ".";

    public static string RenderGive(PerkRandom rng, string a, string o, string r) => Fill(rng.Pick(Give), a, null, o, r) + ".";

    public static string RenderRelation(string x, string dir, string y) => $"The {x} is {dir} of the {y}.";

    static string Fill(string t, string a, string? l, string? o, string? r) =>
        t.Replace("{A}", a).Replace("{L}", l ?? "").Replace("{O}", o ?? "").Replace("{R}", r ?? "");

    static readonly Lazy<Regex[]> Patterns = new(() =>
    {
        string agent = "(" + string.Join("|", BabiVocabulary.Agents.Concat(BabiVocabulary.Qa5Agents).Distinct()) + ")";
        string loc = "(" + string.Join("|", BabiVocabulary.Locations) + ")";
        string obj = "(" + string.Join("|", BabiVocabulary.Objects) + ")";
        var list = new List<Regex>();
        foreach (var t in Move) list.Add(Rx(t, agent, loc, obj, "", ""));
        foreach (var t in Get.Concat(Drop)) list.Add(Rx(t, agent, loc, obj, "", "( there)?"));
        foreach (var t in Give) list.Add(Rx(t, agent, loc, obj, agent, ""));
        list.Add(new Regex($"^The {loc} is (north|south|east|west) of the {loc}\\.$", RegexOptions.CultureInvariant));
        return list.ToArray();
    });

    static Regex Rx(string t, string a, string l, string o, string r, string suffix) =>
        new("^" + Regex.Escape(t).Replace("\\{A}", a).Replace("\\{L}", l).Replace("\\{O}", o).Replace("\\{R}", r)
            .Replace("{A}", a).Replace("{L}", l).Replace("{O}", o).Replace("{R}", r) + suffix + "\\.$", RegexOptions.CultureInvariant);

    /// <summary>True when <paramref name="statement"/> matches exactly one template form (closed vocabulary).</summary>
    public static bool IsTemplated(string statement) => Patterns.Value.Any(p => p.IsMatch(statement));
}
