using System.Text.Json;
using System.Text.RegularExpressions;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>An APIBench query: instruction (question), gold api_call (answer) and the gold doc (api_data).</summary>
public sealed record GorillaQuery(int Row, string File, string Question, string ApiCall, string ApiName, JsonElement ApiData);

/// <summary>A rendered pool doc with its identity and GPT-2 length.</summary>
public sealed record GorillaDoc(string ApiCall, string ApiName, string Text, int Tokens);

/// <summary>
/// Gorilla's APIBench files for one hub (docs/DATA.md): the API pool <c>api/{hub}_api.jsonl</c> and the query
/// files <c>apibench/{prefix}_eval.json</c> (+ <c>_train.json</c> when present; both are JSON Lines). Queries are
/// partitioned into splits by their answer (api_call), so no API call is both trained and tested: keys in decreasing
/// row count (ties by FNV-1a) go to the split furthest below its share of rows (train 70 %, validation 10 %,
/// test 20 %). api_name would do for Hugging Face, but TF Hub's queries pile up on a few names (167 rows named
/// "model_id"). Rows whose instruction does not parse are skipped.
/// </summary>
public sealed class GorillaData
{
    public static readonly string[] Hubs = { "huggingface", "tensorflowhub", "torchhub" };

    static readonly Regex Instruction = new(@"Instruction'?\s*:\s*(.*?)\s*(?:\n\s*###\s*Output|,\s*'Output'\s*:)", RegexOptions.Singleline | RegexOptions.CultureInvariant);

    public string Hub { get; }
    public IReadOnlyList<GorillaDoc> Pool { get; }
    public IReadOnlyList<GorillaQuery> Queries { get; }
    public int SkippedRows { get; }

    GorillaData(string hub, List<GorillaDoc> pool, List<GorillaQuery> queries, int skipped)
    {
        Hub = hub; Pool = pool; Queries = queries; SkippedRows = skipped;
    }

    static readonly Dictionary<(string, string), GorillaData> Cache = new();

    /// <summary>Loads (and caches) a hub's pool and queries from a copy of the Gorilla data folder.</summary>
    public static GorillaData Load(string dir, string hub)
    {
        if (!Hubs.Contains(hub)) throw new PerkException($"hub '{hub}': expected huggingface, tensorflowhub or torchhub");
        string full = Path.GetFullPath(dir);
        lock (Cache)
        {
            if (Cache.TryGetValue((full, hub), out var c)) return c;
            string apiFile = Path.Combine(full, "api", hub + "_api.jsonl");
            if (!File.Exists(apiFile))
                throw new PerkException($"Gorilla data not found: {apiFile} is missing (pass --gorilla DIR with api/ and apibench/ from github.com/ShishirPatil/gorilla data/)");
            var pool = JsonlFile.Read(apiFile).Select(x => Doc(x.Root, $"{apiFile}:{x.Line}")).ToList();
            string prefix = hub == "tensorflowhub" ? "tensorflow" : hub;
            var queryFiles = new[] { "eval", "train" }.Select(s => Path.Combine(full, "apibench", $"{prefix}_{s}.json")).Where(File.Exists).ToList();
            if (queryFiles.Count == 0) throw new PerkException($"Gorilla data not found: {Path.Combine(full, "apibench", prefix + "_eval.json")} is missing");
            var queries = new List<GorillaQuery>();
            int skipped = 0;
            foreach (var f in queryFiles)
                foreach (var (line, root) in JsonlFile.Read(f))
                {
                    var q = Query(root, f, line);
                    if (q == null) skipped++; else queries.Add(q);
                }
            return Cache[(full, hub)] = new GorillaData(hub, pool, queries, skipped);
        }
    }

    static GorillaDoc Doc(JsonElement d, string where)
    {
        string call = JsonlFile.OptionalString(d, "api_call", where) ?? throw new PerkException($"{where}: missing field \"api_call\"");
        string name = JsonlFile.OptionalString(d, "api_name", where) ?? "";
        string text = ApiDocRenderer.Render(d);
        return new GorillaDoc(call, name, text, Gpt2Tokens.Count(text));
    }

    static GorillaQuery? Query(JsonElement q, string file, int line)
    {
        if (!q.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.String) return null;
        if (!q.TryGetProperty("api_data", out var data) || data.ValueKind != JsonValueKind.Object) return null;
        var m = Instruction.Match(code.GetString()!);
        if (!m.Success || m.Groups[1].Value.Trim().Length == 0) return null;
        string where = $"{file}:{line}";
        string? call = JsonlFile.OptionalString(q, "api_call", where) ?? JsonlFile.OptionalString(data, "api_call", where);
        if (call == null) return null;
        return new GorillaQuery(line, Path.GetFileName(file), "Instruction: " + m.Groups[1].Value.Trim(), call,
            JsonlFile.OptionalString(data, "api_name", where) ?? call, data.Clone());
    }

    static readonly (string Split, double Share)[] Shares = { ("train", 0.7), ("validation", 0.1), ("test", 0.2) };

    Dictionary<string, string>? _splitOf;

    /// <summary>The split of an answer (api_call): largest keys first, each to the split with the largest deficit.</summary>
    public string SplitOf(string apiCall)
    {
        if (_splitOf == null)
        {
            var counts = Queries.GroupBy(q => q.ApiCall).Select(g => (Key: g.Key, Rows: g.Count()))
                .OrderByDescending(k => k.Rows).ThenBy(k => PerkRandom.Fnv1a64(k.Key)).ThenBy(k => k.Key, StringComparer.Ordinal).ToList();
            var filled = Shares.ToDictionary(x => x.Split, _ => 0);
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, rows) in counts)
            {
                string best = Shares.OrderByDescending(x => x.Share * Queries.Count - filled[x.Split]).First().Split;
                map[key] = best;
                filled[best] += rows;
            }
            _splitOf = map;
        }
        return _splitOf.TryGetValue(apiCall, out var s) ? s : "test";
    }

    /// <summary>The queries of one split, in file order.</summary>
    public List<GorillaQuery> QueriesOf(string split) => Queries.Where(q => SplitOf(q.ApiCall) == split).ToList();
}
