using System.Text.Json.Nodes;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// LongGorilla positional contexts (docs/DATA.md): the gold API doc plus distractors drawn uniformly without
/// replacement from the same hub's pool (excluding docs with the gold's api_call or api_name), added while the
/// total stays within the budget (default 4k, the sample's size); the gold goes to pre (0), mid (⌊K/2⌋), post (K−1)
/// or rnd. The random stream does not depend on the location, so the four placements share one distractor set.
/// </summary>
public static class LongGorillaGenerator
{
    public static readonly string[] Locations = { "pre", "mid", "post", "rnd" };

    public static GeneratedExample Generate(GorillaData data, IReadOnlyList<GorillaQuery> queries, string location, string length, string split,
        long index, ulong seed = PerkRandom.DefaultSeed, BudgetRule rule = BudgetRule.Perk)
    {
        if (!Locations.Contains(location)) throw new PerkException($"location '{location}': expected pre, mid, post or rnd");
        if (index >= queries.Count) throw new PerkException($"longgorilla {data.Hub} {split}: only {queries.Count} queries, example {index} requested");
        int budget = LengthBudget.Tokens(length, rule);
        if (budget <= 0) throw new PerkException($"length {length}: LongGorilla needs a positive budget (e.g. 4k)");
        var q = queries[(int)index];
        var rng = PerkRandom.ForSample(seed, "longgorilla/" + data.Hub, length, split, index);
        string gold = ApiDocRenderer.Render(q.ApiData);
        int total = Gpt2Tokens.Count(gold);

        var order = Enumerable.Range(0, data.Pool.Count).ToArray();
        rng.Shuffle(order);
        var docs = new List<string>();
        foreach (int i in order)
        {
            var d = data.Pool[i];
            if (d.ApiCall == q.ApiCall || (d.ApiName.Length > 0 && d.ApiName == q.ApiName)) continue;
            if (total + d.Tokens > budget) break;
            docs.Add(d.Text);
            total += d.Tokens;
        }
        int k = docs.Count + 1;
        int rnd = rng.Next(k);                      // drawn for every location: the stream stays location-independent
        int pos = location switch { "pre" => 0, "mid" => k / 2, "post" => k - 1, _ => rnd };
        docs.Insert(pos, gold);

        var ex = new PerkExample($"{LongGorillaFamily.SubsetOf(data.Hub, location)}_{index}", docs, q.Question, q.ApiCall, null,
            $"longgorilla/{data.Hub}_api", LengthBudget.Bucket(length), location);
        var meta = new JsonObject
        {
            ["hub"] = data.Hub,
            ["gold_index"] = pos,
            ["n_docs"] = k,
            ["tokens"] = total,
            ["budget"] = budget,
            ["query_file"] = q.File,
            ["query_row"] = q.Row,
            ["seed"] = PerkRandom.SampleSeed(seed, "longgorilla/" + data.Hub, length, split, index).ToString(),
        };
        return new GeneratedExample(ex, meta);
    }
}
