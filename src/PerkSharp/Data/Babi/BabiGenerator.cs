namespace PerkSharp.Data;

/// <summary>
/// bAbI tasks 1–5 with the v1.2 wording (docs/DATA.md): simulates a hidden world, tells it statement by statement
/// and asks questions from the reader's knowledge. Every question is replayed against the true world state before it
/// is accepted; a mismatch is a bug and throws.
/// </summary>
public static class BabiGenerator
{
    const int QuestionsPerStory = 5;
    const int MaxStatements = 2000;

    /// <summary>Generates one story of task <paramref name="task"/> (1–5).</summary>
    public static BabiStory Story(int task, PerkRandom rng) => task switch
    {
        1 => Qa1(rng),
        2 or 3 => Qa23(task, rng),
        4 => Qa4(rng),
        5 => Qa5(rng),
        _ => throw new ArgumentOutOfRangeException(nameof(task), $"bAbI task must be 1..5, got {task}"),
    };

    /// <summary>
    /// One sample: a story, then one of its questions chosen uniformly among those with at most
    /// <paramref name="maxFacts"/> preceding statements (a new story is drawn when none fits).
    /// </summary>
    public static BabiSample Sample(int task, PerkRandom rng, int maxFacts = int.MaxValue)
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            var story = Story(task, rng);
            var fits = story.Questions.Where(q => q.FactCount <= maxFacts).ToList();
            if (fits.Count == 0) continue;
            var q = rng.Pick(fits);
            return new BabiSample(task, story.Facts.Take(q.FactCount).ToList(), q.Text, q.Answer, q.Support.Order().ToList());
        }
        throw new InvalidOperationException($"no qa{task} story fits {maxFacts} facts");
    }

    static BabiStory Qa1(PerkRandom rng)
    {
        var w = new BabiWorld(BabiVocabulary.Agents, rng);
        var qs = new List<BabiQuestion>();
        for (int round = 0; round < QuestionsPerStory; round++)
        {
            for (int s = 0; s < 2; s++) RandomMove(w, rng);
            var known = Enumerable.Range(0, w.Agents.Length).Where(a => w.KnownLoc[a] != null).ToList();
            int a0 = rng.Pick(known);
            var k = w.KnownLoc[a0]!.Value;
            Check(w.AgentLoc[a0] == k.Loc, "qa1 replay");
            qs.Add(new BabiQuestion(w.Facts.Count, $"Where is {w.Agents[a0]}?", BabiVocabulary.Locations[k.Loc], new[] { k.Fact }));
        }
        return new BabiStory(1, w.Facts.ToList(), qs);
    }

    static BabiStory Qa23(int task, PerkRandom rng)
    {
        var w = new BabiWorld(BabiVocabulary.Agents, rng);
        var qs = new List<BabiQuestion>();
        int c = 0;
        var actions = new[] { BabiAction.Move, BabiAction.Get, BabiAction.Drop };
        while (qs.Count < QuestionsPerStory)
        {
            if (w.Facts.Count > MaxStatements) throw new InvalidOperationException($"qa{task} story did not finish");
            RandomStatement(w, rng, actions);
            c++;
            if (c <= 2 || !rng.Coin()) continue;
            var q = task == 2 ? AskQa2(w, rng) : AskQa3(w, rng);
            if (q == null) continue;
            qs.Add(q); c = 0;
        }
        return new BabiStory(task, w.Facts.ToList(), qs);
    }

    static BabiQuestion? AskQa2(BabiWorld w, PerkRandom rng)
    {
        var known = Enumerable.Range(0, BabiVocabulary.Objects.Length).Where(o => w.Resolve(o) != null).ToList();
        if (known.Count == 0) return null;
        int o = rng.Pick(known);
        var (loc, support) = w.Resolve(o)!.Value;
        Check(w.TrueObjLoc(o) == loc, "qa2 replay");
        return new BabiQuestion(w.Facts.Count, $"Where is the {BabiVocabulary.Objects[o]}?", BabiVocabulary.Locations[loc], support.Distinct().ToArray());
    }

    // QA3: support = {move that brought O into L_prev, move into L_last, latest get/drop of O}, all by one carrier.
    static BabiQuestion? AskQa3(BabiWorld w, PerkRandom rng)
    {
        var candidates = new List<(int O, int Prev, int Last, int[] Support)>();
        for (int o = 0; o < BabiVocabulary.Objects.Length; o++)
        {
            var h = w.History[o];
            if (h.Count < 2 || w.LastGetDrop[o] < 0) continue;
            int movePrev = h[^2].Support.FirstOrDefault(f => w.Facts[f].Action == BabiAction.Move, -1);
            int moveLast = h[^1].Support.FirstOrDefault(f => w.Facts[f].Action == BabiAction.Move, -1);
            int gd = w.LastGetDrop[o];
            if (movePrev < 0 || moveLast < 0) continue;
            var set = new[] { movePrev, moveLast, gd }.Distinct().ToArray();
            string carrier = w.Facts[gd].Agent;
            if (set.Length != 3 || set.Any(f => w.Facts[f].Agent != carrier)) continue;
            candidates.Add((o, h[^2].Loc, h[^1].Loc, set));
        }
        if (candidates.Count == 0) return null;
        var (obj, prev, last, sup) = rng.Pick(candidates);
        var trail = w.TrueTrail[obj];
        Check(trail.Count >= 2 && trail[^1] == last && trail[^2] == prev, "qa3 replay");
        return new BabiQuestion(w.Facts.Count, $"Where was the {BabiVocabulary.Objects[obj]} before the {BabiVocabulary.Locations[last]}?",
            BabiVocabulary.Locations[prev], sup);
    }

    static BabiStory Qa4(PerkRandom rng)
    {
        var L = BabiVocabulary.Locations;
        var idx = Enumerable.Range(0, L.Length).ToArray();
        rng.Shuffle(idx);
        string p = L[idx[0]], q = L[idx[1]], r = L[idx[2]];
        string d = rng.Coin() ? "north" : "east";
        string od = d == "north" ? "south" : "west";
        // pair (X, Y) with "Y is d of X": (p,q) and (q,r).
        var pairs = new[] { (X: p, Y: q), (X: q, Y: r) };
        var facts = pairs.Select(pr => rng.Coin() ? BabiTemplates.RenderRelation(pr.Y, d, pr.X) : BabiTemplates.RenderRelation(pr.X, od, pr.Y)).ToList();
        var order = rng.Coin() ? new[] { 0, 1 } : new[] { 1, 0 };
        var storyFacts = order.Select((pi, i) => new BabiFact(i, BabiAction.Relation, "", facts[pi])).ToList();
        int pick = rng.Next(2);
        var (x, y) = pairs[pick];
        (string text, string answer) = rng.Next(4) switch
        {
            0 => ($"What is {d} of the {x}?", y),
            1 => ($"What is {od} of the {y}?", x),
            2 => ($"What is the {y} {d} of?", x),
            _ => ($"What is the {x} {od} of?", y),
        };
        int supportIndex = Array.IndexOf(order, pick);
        // Replay on coordinates: p at 0, q at 1, r at 2 along d.
        int Coord(string loc) => loc == p ? 0 : loc == q ? 1 : 2;
        bool asksD = text.StartsWith($"What is {d} ") || text.EndsWith($" {d} of?");
        string subject = text.StartsWith("What is the ") ? text.Split(' ')[3] : text[(text.LastIndexOf("the ", StringComparison.Ordinal) + 4)..^1];
        int want = text.StartsWith("What is the ") ? Coord(subject) + (asksD ? -1 : 1) : Coord(subject) + (asksD ? 1 : -1);
        Check(Coord(answer) == want, "qa4 replay");
        return new BabiStory(4, storyFacts, new[] { new BabiQuestion(2, text, answer, new[] { supportIndex }) });
    }

    static BabiStory Qa5(PerkRandom rng)
    {
        var w = new BabiWorld(BabiVocabulary.Qa5Agents, rng);
        var qs = new List<BabiQuestion>();
        var all = new[] { BabiAction.Move, BabiAction.Get, BabiAction.Drop, BabiAction.Give };
        int c = 0;
        while (qs.Count < QuestionsPerStory)
        {
            if (w.Facts.Count > MaxStatements) throw new InvalidOperationException("qa5 story did not finish");
            var f = RandomStatement(w, rng, all);
            c++;
            if (f.Action != BabiAction.Give || c < 2) continue;
            string g = f.Agent, o = f.Object!, r = f.Recipient!;
            int extra = rng.Next(6);
            for (int e = 0; e < extra; e++)
                RandomStatement(w, rng, all, s => s.Object != o && !(s.Action == BabiAction.Give && s.Agent == g && s.Recipient == r));
            (string text, string answer) = rng.Next(5) switch
            {
                0 => ($"What did {g} give to {r}?", o),
                1 => ($"Who gave the {o} to {r}?", g),
                2 => ($"Who did {g} give the {o} to?", r),
                3 => ($"Who received the {o}?", r),
                _ => ($"Who gave the {o}?", g),
            };
            qs.Add(new BabiQuestion(w.Facts.Count, text, answer, new[] { f.Index }));
            c = 0;
        }
        return new BabiStory(5, w.Facts.ToList(), qs);
    }

    static void RandomMove(BabiWorld w, PerkRandom rng)
    {
        while (true)
        {
            int a = rng.Next(w.Agents.Length), l = rng.Next(BabiVocabulary.Locations.Length);
            if (!w.ValidMove(a, l)) continue;
            w.Apply(BabiAction.Move, a, l, -1, BabiTemplates.RenderMove(rng, w.Agents[a], BabiVocabulary.Locations[l]));
            return;
        }
    }

    // Pick an action type uniformly, then up to 100 draws of arguments forming a valid action; an optional
    // filter rejects statements (QA5's "no mention of O" rule). The text is rendered only for the accepted draw.
    static BabiFact RandomStatement(BabiWorld w, PerkRandom rng, BabiAction[] actions, Func<BabiFact, bool>? accept = null)
    {
        int na = w.Agents.Length, nl = BabiVocabulary.Locations.Length, no = BabiVocabulary.Objects.Length;
        for (int round = 0; round < 10000; round++)
        {
            var act = rng.Pick(actions);
            for (int t = 0; t < 100; t++)
            {
                int a = rng.Next(na);
                int arg = act == BabiAction.Move ? rng.Next(nl) : rng.Next(no);
                int r = act == BabiAction.Give ? rng.Next(na) : -1;
                bool valid = act switch
                {
                    BabiAction.Move => w.ValidMove(a, arg),
                    BabiAction.Get => w.ValidGet(a, arg),
                    BabiAction.Drop => w.ValidDrop(a, arg),
                    _ => w.ValidGive(a, arg, r),
                };
                if (!valid) continue;
                var probe = new BabiFact(-1, act, w.Agents[a], "", act == BabiAction.Move ? BabiVocabulary.Locations[arg] : null,
                    act == BabiAction.Move ? null : BabiVocabulary.Objects[arg], r >= 0 ? w.Agents[r] : null);
                if (accept != null && !accept(probe)) continue;
                string text = act switch
                {
                    BabiAction.Move => BabiTemplates.RenderMove(rng, w.Agents[a], BabiVocabulary.Locations[arg]),
                    BabiAction.Get => BabiTemplates.RenderGet(rng, w.Agents[a], BabiVocabulary.Objects[arg]),
                    BabiAction.Drop => BabiTemplates.RenderDrop(rng, w.Agents[a], BabiVocabulary.Objects[arg]),
                    _ => BabiTemplates.RenderGive(rng, w.Agents[a], BabiVocabulary.Objects[arg], w.Agents[r]),
                };
                return w.Apply(act, a, arg, r, text);
            }
        }
        throw new InvalidOperationException("no valid bAbI statement found");
    }

    static void Check(bool ok, string what)
    {
        if (!ok) throw new InvalidOperationException($"bAbI self-check failed: {what}");
    }
}
