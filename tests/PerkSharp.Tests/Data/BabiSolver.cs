using System.Text.RegularExpressions;

namespace PerkSharp.Tests.Data;

/// <summary>
/// An independent, deliberately simple bAbI solver for the consistency checks: it parses the plain English facts
/// (no generator code) and answers the question by replaying them.
/// </summary>
internal static class BabiSolver
{
    static readonly Regex Move = new(@"^(\w+) (?:moved|went|journeyed|travelled|went back) to the (\w+)\.$");
    static readonly Regex Get = new(@"^(\w+) (?:got|took|grabbed|picked up) the (\w+)(?: there)?\.$");
    static readonly Regex Drop = new(@"^(\w+) (?:dropped|put down|discarded|left) the (\w+)(?: there)?\.$");
    static readonly Regex Give = new(@"^(\w+) (?:gave|passed|handed) the (\w+) to (\w+)\.$");
    static readonly Regex Rel = new(@"^The (\w+) is (\w+) of the (\w+)\.$");

    /// <summary>Strips "{A} Event {k}: ".</summary>
    public static string Plain(string fact) => Regex.Replace(fact, @"^\w+ Event \d+: ", "");

    public static string? Answer(int task, IReadOnlyList<string> facts, string question)
    {
        var plain = facts.Select(Plain).ToList();
        var agentLoc = new Dictionary<string, string>();
        var holder = new Dictionary<string, string?>();
        var objLoc = new Dictionary<string, string?>();
        var trail = new Dictionary<string, List<string>>();
        var gives = new List<(string G, string O, string R)>();
        var rel = new List<(string X, string D, string Y)>();
        void Note(string o)
        {
            string? loc = holder.GetValueOrDefault(o) is { } h ? agentLoc.GetValueOrDefault(h) : objLoc.GetValueOrDefault(o);
            if (loc == null) return;
            var t = trail.TryGetValue(o, out var l) ? l : trail[o] = new List<string>();
            if (t.Count == 0 || t[^1] != loc) t.Add(loc);
        }
        foreach (var f in plain)
        {
            Match m;
            if ((m = Move.Match(f)).Success)
            {
                agentLoc[m.Groups[1].Value] = m.Groups[2].Value;
                foreach (var o in holder.Where(kv => kv.Value == m.Groups[1].Value).Select(kv => kv.Key).ToList()) Note(o);
            }
            else if ((m = Get.Match(f)).Success) { holder[m.Groups[2].Value] = m.Groups[1].Value; Note(m.Groups[2].Value); }
            else if ((m = Drop.Match(f)).Success)
            {
                string o = m.Groups[2].Value;
                holder[o] = null;
                objLoc[o] = agentLoc.GetValueOrDefault(m.Groups[1].Value);
                Note(o);
            }
            else if ((m = Give.Match(f)).Success) { holder[m.Groups[2].Value] = m.Groups[3].Value; gives.Add((m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value)); }
            else if ((m = Rel.Match(f)).Success) rel.Add((m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value));
            else throw new InvalidOperationException("unparsed fact: " + f);
        }
        Match q;
        if ((q = Regex.Match(question, @"^Where is (\w+)\?$")).Success) return agentLoc.GetValueOrDefault(q.Groups[1].Value);
        if ((q = Regex.Match(question, @"^Where is the (\w+)\?$")).Success)
            return trail.TryGetValue(q.Groups[1].Value, out var t1) ? t1[^1] : null;
        if ((q = Regex.Match(question, @"^Where was the (\w+) before the (\w+)\?$")).Success)
        {
            var t = trail[q.Groups[1].Value];
            return t.Count >= 2 && t[^1] == q.Groups[2].Value ? t[^2] : null;
        }
        if ((q = Regex.Match(question, @"^What did (\w+) give to (\w+)\?$")).Success) return gives.Last(g => g.G == q.Groups[1].Value && g.R == q.Groups[2].Value).O;
        if ((q = Regex.Match(question, @"^Who gave the (\w+) to (\w+)\?$")).Success) return gives.Last(g => g.O == q.Groups[1].Value && g.R == q.Groups[2].Value).G;
        if ((q = Regex.Match(question, @"^Who did (\w+) give the (\w+) to\?$")).Success) return gives.Last(g => g.G == q.Groups[1].Value && g.O == q.Groups[2].Value).R;
        if ((q = Regex.Match(question, @"^Who received the (\w+)\?$")).Success) return gives.Last(g => g.O == q.Groups[1].Value).R;
        if ((q = Regex.Match(question, @"^Who gave the (\w+)\?$")).Success) return gives.Last(g => g.O == q.Groups[1].Value).G;
        // QA4: build "Y is d of X" relations in both directions, then answer.
        var opposite = new Dictionary<string, string> { ["north"] = "south", ["south"] = "north", ["east"] = "west", ["west"] = "east" };
        var all = rel.Concat(rel.Select(r => (X: r.Y, D: opposite[r.D], Y: r.X))).ToList();   // (X is D of Y)
        if ((q = Regex.Match(question, @"^What is (\w+) of the (\w+)\?$")).Success)
            return all.Where(r => r.D == q.Groups[1].Value && r.Y == q.Groups[2].Value).Select(r => r.X).SingleOrDefault();
        if ((q = Regex.Match(question, @"^What is the (\w+) (\w+) of\?$")).Success)
            return all.Where(r => r.X == q.Groups[1].Value && r.D == q.Groups[2].Value).Select(r => r.Y).SingleOrDefault();
        throw new InvalidOperationException("unknown question: " + question);
    }
}
