namespace PerkSharp.Data;

/// <summary>
/// The true world state of a bAbI story plus the reader's knowledge: what the statements so far
/// reveal, with the fact indices that established it. The hidden initial state is uniformly random.
/// </summary>
internal sealed class BabiWorld
{
    public readonly string[] Agents;
    public readonly int[] AgentLoc;          // true location index per agent
    public readonly int[] ObjHolder;         // agent index or -1
    public readonly int[] ObjLoc;            // true location when not held
    // Reader knowledge.
    public readonly (int Loc, int Fact)?[] KnownLoc;
    public readonly int[] LastGetDrop;       // latest get/drop fact about each object, -1 none
    public readonly (int Loc, int Drop, int Move)?[] DropInfo;
    public readonly List<(int Loc, int[] Support)>[] History;
    public readonly List<int>[] TrueTrail;   // distinct consecutive true locations per object (for replay checks)
    public readonly List<BabiFact> Facts = new();

    public BabiWorld(string[] agents, PerkRandom rng)
    {
        Agents = agents;
        int nl = BabiVocabulary.Locations.Length, no = BabiVocabulary.Objects.Length;
        AgentLoc = agents.Select(_ => rng.Next(nl)).ToArray();
        ObjHolder = Enumerable.Repeat(-1, no).ToArray();
        ObjLoc = Enumerable.Range(0, no).Select(_ => rng.Next(nl)).ToArray();
        KnownLoc = new (int, int)?[agents.Length];
        LastGetDrop = Enumerable.Repeat(-1, no).ToArray();
        DropInfo = new (int, int, int)?[no];
        History = Enumerable.Range(0, no).Select(_ => new List<(int, int[])>()).ToArray();
        TrueTrail = Enumerable.Range(0, no).Select(o => new List<int> { ObjLoc[o] }).ToArray();
    }

    public int TrueObjLoc(int o) => ObjHolder[o] >= 0 ? AgentLoc[ObjHolder[o]] : ObjLoc[o];

    /// <summary>Resolved known location of an object with its support, or null when unknown.</summary>
    public (int Loc, int[] Support)? Resolve(int o)
    {
        int h = ObjHolder[o];
        if (h >= 0)
            return KnownLoc[h] is { } k ? (k.Loc, new[] { LastGetDrop[o], k.Fact }) : null;
        return DropInfo[o] is { } d ? (d.Loc, new[] { d.Drop, d.Move }) : null;
    }

    public bool ValidMove(int a, int l) => AgentLoc[a] != l;
    public bool ValidGet(int a, int o) => ObjHolder[o] < 0 && ObjLoc[o] == AgentLoc[a];
    public bool ValidDrop(int a, int o) => ObjHolder[o] == a;
    public bool ValidGive(int a, int o, int r) => ObjHolder[o] == a && r != a && AgentLoc[r] == AgentLoc[a];

    /// <summary>Applies a statement to the true world and to the reader's knowledge.</summary>
    public BabiFact Apply(BabiAction act, int a, int arg, int r, string text)
    {
        int i = Facts.Count;
        string? loc = null, obj = null, rec = null;
        switch (act)
        {
            case BabiAction.Move:
                AgentLoc[a] = arg; KnownLoc[a] = (arg, i); loc = BabiVocabulary.Locations[arg];
                break;
            case BabiAction.Get:
                ObjHolder[arg] = a; LastGetDrop[arg] = i; DropInfo[arg] = null; obj = BabiVocabulary.Objects[arg];
                break;
            case BabiAction.Drop:
                ObjHolder[arg] = -1; ObjLoc[arg] = AgentLoc[a]; LastGetDrop[arg] = i; obj = BabiVocabulary.Objects[arg];
                DropInfo[arg] = KnownLoc[a] is { } k ? (k.Loc, i, k.Fact) : null;
                break;
            case BabiAction.Give:
                ObjHolder[arg] = r; obj = BabiVocabulary.Objects[arg]; rec = Agents[r];
                break;
        }
        var fact = new BabiFact(i, act, Agents[a], text, loc, obj, rec);
        Facts.Add(fact);
        for (int o = 0; o < ObjHolder.Length; o++)
        {
            int t = TrueObjLoc(o);
            if (TrueTrail[o][^1] != t) TrueTrail[o].Add(t);
            if (Resolve(o) is { } res && (History[o].Count == 0 || History[o][^1].Loc != res.Loc))
                History[o].Add((res.Loc, res.Support));
        }
        return fact;
    }
}
