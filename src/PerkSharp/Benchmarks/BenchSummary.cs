using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PerkSharp.Benchmarks;

/// <summary>A goal on one summary key: <c>value Op threshold</c> (Op is "&gt;=" or "&lt;=").</summary>
public sealed record BenchGoal(string Key, string Op, double Threshold, string Meaning)
{
    public bool? Met(double? v) => v is not double x || double.IsNaN(x) ? null : Op == ">=" ? x >= Threshold : x <= Threshold;
}

/// <summary>
/// The keys of summary.json (fractions, not percents), the goals of issue 6 and the markdown summary around them.
/// Keys that could not be measured are written as null, never left out.
/// </summary>
public sealed class BenchSummary
{
    public static readonly string[] Keys =
    {
        "gemm_gflops", "meta_step_mfu", "test_time_mfu", "icr_prefill_mfu", "test_time_scaling_32k_4k",
        "accum16_memory_ratio", "truncated_full_peak_ratio", "rss_growth_50_500", "rss_growth_750_1500", "break_even_tokens",
        "break_even_model_tokens", "tiny_meta_examples_per_second_b1", "tiny_meta_examples_per_second_best",
        "meta_batch_speedup", "tiny_meta_step_mfu",
    };

    public static readonly BenchGoal[] Goals =
    {
        new("meta_step_mfu", ">=", 0.30, "meta-step FLOP/s / GEMM peak (GPT-2-small shapes)"),
        new("test_time_mfu", ">=", 0.40, "PERK encode+answer FLOP/s / GEMM peak"),
        new("icr_prefill_mfu", ">=", 0.50, "in-context prefill FLOP/s / GEMM peak"),
        new("test_time_scaling_32k_4k", "<=", 8.8, "PERK test time at 8x the context / at 1x (linear = 8)"),
        new("accum16_memory_ratio", "<=", 0.15, "peak activation memory k=16 / k=1"),
        new("truncated_full_peak_ratio", "<=", 0.60, "meta-step peak activation memory T=2 / full (N=4)"),
        new("rss_growth_50_500", "<=", 0.05, "warm-up: RSS growth from meta-step 50 to 500 (tiny model; allocator caches fill)"),
        new("rss_growth_750_1500", "<=", 0.02, "steady state: RSS growth from meta-step 750 to 1,500 (tiny model; growth here is a leak)"),
        new("meta_batch_speedup", ">=", 4.0, "meta-examples/s with the best train_batch_size / with B = 1 (quickstart shapes)"),
        new("tiny_meta_step_mfu", ">=", 0.35, "meta-step FLOP/s / GEMM peak at the best B (quickstart shapes)"),
        new("break_even_ratio", "<=", 1.5, "measured break-even / model break-even (either way round)"),
    };

    public Dictionary<string, double?> Values { get; } = Keys.ToDictionary(k => k, _ => (double?)null);
    public Dictionary<string, JsonNode?> Extra { get; } = new();
    public List<string> Notes { get; } = new();

    public double? this[string key]
    {
        get => Values.TryGetValue(key, out var v) ? v : null;
        set => Values[key] = value is double d && double.IsFinite(d) ? d : null;
    }

    /// <summary>max(measured/model, model/measured) of the break-even lengths, or null.</summary>
    public double? BreakEvenRatio =>
        this["break_even_tokens"] is double m && this["break_even_model_tokens"] is double p && m > 0 && p > 0
            ? Math.Max(m / p, p / m) : null;

    double? GoalValue(BenchGoal g) => g.Key == "break_even_ratio" ? BreakEvenRatio : this[g.Key];

    public string ToJson()
    {
        var o = new JsonObject();
        foreach (var k in Keys) o[k] = this[k] is double d ? JsonValue.Create(Math.Round(d, 6)) : null;
        o["break_even_ratio"] = BreakEvenRatio is double r ? JsonValue.Create(Math.Round(r, 4)) : null;
        var goals = new JsonObject();
        foreach (var g in Goals) goals[g.Key] = GoalValue(g) is double _ ? JsonValue.Create(g.Met(GoalValue(g))!.Value) : null;
        o["goals_met"] = goals;
        foreach (var (k, v) in Extra) o[k] = v?.DeepClone();
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The measured-vs-goal table (markdown).</summary>
    public string GoalTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| key | measured | goal | met | meaning |");
        sb.AppendLine("|---|---|---|---|---|");
        sb.AppendLine($"| gemm_gflops | {Fmt(this["gemm_gflops"])} | (denominator) | | best sustained float32 GEMM GFLOP/s |");
        foreach (var g in Goals)
        {
            var v = GoalValue(g);
            string met = g.Met(v) switch { true => "yes", false => "**no**", null => "not measured" };
            sb.AppendLine($"| {g.Key} | {Fmt(v)} | {g.Op} {g.Threshold.ToString(CultureInfo.InvariantCulture)} | {met} | {g.Meaning} |");
        }
        sb.AppendLine($"| break_even_tokens | {Fmt(this["break_even_tokens"])} | | | measured (fitted) break-even context |");
        sb.AppendLine($"| break_even_model_tokens | {Fmt(this["break_even_model_tokens"])} | | | FLOP-model break-even context |");
        return sb.ToString();
    }

    public static string Fmt(double? v) => v is double d ? BenchTable.Format(d) : "—";
}
