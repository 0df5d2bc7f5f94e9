using System.Text.Json.Nodes;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>Settings of one BabiLong subset (task, length, split) (docs/DATA.md).</summary>
public sealed record BabiLongOptions(
    int Task,
    string Length,
    string Split,
    ulong Seed = PerkRandom.DefaultSeed,
    string Placement = "shuffled",
    int SegmentTokens = 256,
    BudgetRule Rule = BudgetRule.Perk,
    bool ExcludeBabiSentences = true)
{
    /// <summary>Official subset name, e.g. "qa2_8k".</summary>
    public string Subset => BabiLongFamily.SubsetOf(Task, Length);
}

/// <summary>A generated example with the metadata written under "meta" in the JSONL line.</summary>
public sealed record GeneratedExample(PerkExample Example, JsonObject Meta);

/// <summary>
/// PERK's BabiLong variant (docs/DATA.md): a bAbI sample whose facts carry "{Agent} Event {k}: " prefixes and
/// are scattered over ~256-token haystack segments. The budget counts haystack + plain facts (prefixes are not
/// counted, the BABILong convention that reproduces the sample totals).
/// </summary>
public static class BabiLongGenerator
{
    /// <summary>Generates example <paramref name="index"/> of the subset; the same inputs give the same example.</summary>
    public static GeneratedExample Generate(BabiLongOptions o, HaystackCorpus corpus, long index)
    {
        if (o.Task is < 1 or > 5) throw new PerkException($"babilong subset qa{o.Task}: tasks are qa1..qa5");
        if (o.Placement is not ("shuffled" or "blocked")) throw new PerkException($"placement '{o.Placement}': expected shuffled or blocked");
        if (o.SegmentTokens < 16) throw new PerkException($"segment size {o.SegmentTokens} tokens is too small (at least 16)");
        string task = $"babilong/qa{o.Task}";
        ulong seed = PerkRandom.SampleSeed(o.Seed, task, o.Length, o.Split, index);
        var rng = PerkRandom.ForSample(o.Seed, task, o.Length, o.Split, index);
        int budget = LengthBudget.Tokens(o.Length, o.Rule);

        BabiSample sample;
        int factTokens;
        int attempts = 0;
        while (true)
        {
            sample = BabiGenerator.Sample(o.Task, rng, budget > 0 ? budget / 8 : int.MaxValue);
            factTokens = sample.Facts.Sum(f => Gpt2Tokens.Count(" " + f.Text));
            if (budget == 0 || factTokens <= budget) break;
            if (++attempts > 100) throw new PerkException($"length {o.Length}: budget {budget} tokens is too small for qa{o.Task} facts");
        }
        var annotated = sample.AnnotatedFacts();

        List<string> segments;
        var slots = new int[annotated.Count][];
        if (budget == 0)
            segments = PackFactsOnly(annotated, o.SegmentTokens, rng, slots);
        else
        {
            var exclude = o.ExcludeBabiSentences ? BabiSentenceFilter(o.Task) : null;
            var hay = corpus.Sample(rng, budget - factTokens, exclude);
            segments = Scatter(TokenWindows.Cut(hay, o.SegmentTokens), annotated, sample, o.Placement, rng, slots);
        }

        var support = sample.Support.Select(i => annotated[i]).ToList();
        var ex = new PerkExample($"{o.Subset}_{index}", segments, sample.Question, sample.Answer, support,
            task, LengthBudget.Bucket(o.Length));
        var meta = new JsonObject
        {
            ["task"] = $"qa{o.Task}",
            ["length"] = o.Length,
            ["budget"] = budget,
            ["nFacts"] = annotated.Count,
            ["placement"] = budget == 0 ? "packed" : o.Placement,
            ["factSlots"] = new JsonArray(slots.Select(s => (JsonNode)new JsonArray(s[0], s[1])).ToArray()),
            ["haystackSource"] = budget == 0 ? "none" : corpus.Source,
            ["excludeBabiSentences"] = o.ExcludeBabiSentences,
            ["seed"] = seed.ToString(),
        };
        if (o.Task == 4) meta["unannotated"] = true;
        return new GeneratedExample(ex, meta);
    }

    // docs/DATA.md: drop haystack sentences naming a bAbI agent together with a bAbI location.
    static Func<string, bool> BabiSentenceFilter(int task)
    {
        var agents = BabiVocabulary.AgentsOf(task);
        return s => agents.Any(a => ContainsWord(s, a)) && BabiVocabulary.Locations.Any(l => ContainsWord(s, l));
    }

    static bool ContainsWord(string s, string w)
    {
        for (int i = s.IndexOf(w, StringComparison.OrdinalIgnoreCase); i >= 0; i = s.IndexOf(w, i + 1, StringComparison.OrdinalIgnoreCase))
        {
            bool left = i == 0 || !char.IsLetter(s[i - 1]);
            bool right = i + w.Length >= s.Length || !char.IsLetter(s[i + w.Length]);
            if (left && right) return true;
        }
        return false;
    }

    // 0k: no haystack; the shuffled annotated facts are packed into segments of at most W tokens.
    static List<string> PackFactsOnly(IReadOnlyList<string> facts, int width, PerkRandom rng, int[][] slots)
    {
        var order = Enumerable.Range(0, facts.Count).ToArray();
        rng.Shuffle(order);
        var segs = new List<List<string>>();
        int used = width + 1;
        foreach (int f in order)
        {
            int t = Gpt2Tokens.Count(" " + facts[f]);
            if (used + t > width || segs.Count == 0) { segs.Add(new List<string>()); used = 0; }
            slots[f] = new[] { segs.Count - 1, segs[^1].Count };
            segs[^1].Add(facts[f]);
            used += t;
        }
        return segs.Select(s => string.Join(" ", s)).ToList();
    }

    // Slots are sentence starts plus each segment's end; facts go to slots by placement mode.
    static List<string> Scatter(List<string> segments, IReadOnlyList<string> annotated, BabiSample sample, string placement,
        PerkRandom rng, int[][] slots)
    {
        if (segments.Count == 0) segments.Add("");
        var positions = segments.Select(s =>
        {
            var p = SentenceSplitter.Spans(s).Select(x => x.Start).ToList();
            if (p.Count == 0 || p[0] != 0) p.Insert(0, 0);
            p.Add(s.Length);
            return p;
        }).ToList();
        int total = positions.Sum(p => p.Count);
        var perSlot = segments.Select((_, i) => positions[i].Select(_ => new List<int>()).ToArray()).ToArray();

        if (placement == "shuffled")
        {
            var order = Enumerable.Range(0, annotated.Count).ToArray();
            rng.Shuffle(order);
            foreach (int f in order)
            {
                int g = rng.Next(total), seg = 0;
                while (g >= positions[seg].Count) { g -= positions[seg].Count; seg++; }
                perSlot[seg][g].Add(f);
                slots[f] = new[] { seg, g };
            }
        }
        else
        {
            // blocked: order by (agent's first appearance, k), deal into segments proportionally, shuffle inside.
            var first = new Dictionary<string, int>();
            foreach (var f in sample.Facts) first.TryAdd(f.Agent, f.Index);
            var order = Enumerable.Range(0, annotated.Count).OrderBy(i => first[sample.Facts[i].Agent]).ThenBy(i => i).ToList();
            int n = segments.Count;
            var bySeg = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
            for (int i = 0; i < order.Count; i++) bySeg[(int)((long)i * n / order.Count)].Add(order[i]);
            for (int seg = 0; seg < n; seg++)
            {
                rng.Shuffle(bySeg[seg]);
                foreach (int f in bySeg[seg])
                {
                    int g = rng.Next(positions[seg].Count);
                    perSlot[seg][g].Add(f);
                    slots[f] = new[] { seg, g };
                }
            }
        }

        var result = new List<string>(segments.Count);
        for (int seg = 0; seg < segments.Count; seg++)
        {
            var pieces = new List<string>();
            var p = positions[seg];
            for (int j = 0; j < p.Count; j++)
            {
                pieces.AddRange(perSlot[seg][j].Select(f => annotated[f]));
                if (j + 1 < p.Count)
                {
                    string part = segments[seg][p[j]..p[j + 1]].Trim();
                    if (part.Length > 0) pieces.Add(part);
                }
            }
            result.Add(string.Join(" ", pieces));
        }
        return result;
    }
}
