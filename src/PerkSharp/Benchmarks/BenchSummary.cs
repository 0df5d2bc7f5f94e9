using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PerkSharp.Benchmarks;

/// <summary>
/// A goal on one summary key: <c>value Op threshold</c> (Op is "&gt;=" or "&lt;="). <paramref name="AppliesTo"/>, when
/// given, says whether this host is one the goal is set for (null: unknown); elsewhere the goal is not judged.
/// </summary>
public sealed record BenchGoal(string Key, string Op, double Threshold, string Meaning, Func<BenchSummary, bool?>? AppliesTo = null)
{
    public bool? Met(double? v) => v is not double x || double.IsNaN(x) ? null : Op == ">=" ? x >= Threshold : x <= Threshold;
}

/// <summary>
/// The keys of summary.json (fractions, not percents), their goals and the markdown summary around them.
/// Keys that could not be measured are written as null, never left out.
/// </summary>
public sealed class BenchSummary
{
    public static readonly string[] Keys =
    {
        "gemm_gflops", "meta_step_mfu", "test_time_mfu", "icr_prefill_mfu", "test_time_scaling_32k_4k",
        "accum16_memory_ratio", "truncated_full_peak_ratio", "rss_growth_50_500", "rss_growth_750_1500", "break_even_tokens",
        "break_even_model_tokens", "tiny_meta_examples_per_second_b1", "tiny_meta_examples_per_second_best",
        "meta_batch_speedup", "tiny_meta_step_mfu", "meta_step_seconds_fp32", "meta_step_seconds_bf16_mixed",
        "meta_step_peak_mb_fp32", "meta_step_peak_mb_bf16_mixed", "bf16_mixed_time_ratio", "bf16_mixed_memory_ratio",
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
        new("bf16_mixed_memory_ratio", "<=", 0.70, "meta-step weights + peak activations, bf16-mixed / fp32 (GPT-2-small shapes, T=2)"),
        new("bf16_mixed_time_ratio", "<=", 0.60, "meta-step time bf16-mixed / fp32 (GPT-2-small shapes, T=2), judged where bf16 GEMM >= 2x fp32",
            s => s.Bf16GemmSpeedup is double r ? r >= 2.0 : null),
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

    /// <summary>gemm_gflops_bfloat16 / gemm_gflops, or null when either was not measured.</summary>
    public double? Bf16GemmSpeedup =>
        this["gemm_gflops"] is double f && f > 0 && Extra.TryGetValue("gemm_gflops_bfloat16", out var b) && b is not null ? (double)b / f : null;

    double? GoalValue(BenchGoal g) => g.Key == "break_even_ratio" ? BreakEvenRatio : this[g.Key];

    /// <summary>Whether the goal is met; null when not measured or when it does not apply to (or is unknown for) this host.</summary>
    public bool? Met(BenchGoal g) => g.AppliesTo is { } applies && applies(this) != true ? null : g.Met(GoalValue(g));

    public string ToJson()
    {
        var o = new JsonObject();
        foreach (var k in Keys) o[k] = this[k] is double d ? JsonValue.Create(Math.Round(d, 6)) : null;
        o["break_even_ratio"] = BreakEvenRatio is double r ? JsonValue.Create(Math.Round(r, 4)) : null;
        var goals = new JsonObject();
        foreach (var g in Goals) goals[g.Key] = Met(g) is bool m ? JsonValue.Create(m) : null;
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
            string met = Met(g) switch
            {
                true => "yes", false => "**no**",
                null when v is double && g.AppliesTo?.Invoke(this) == false => "n/a on this host",
                null => "not measured",
            };
            sb.AppendLine($"| {g.Key} | {Fmt(v)} | {g.Op} {g.Threshold.ToString(CultureInfo.InvariantCulture)} | {met} | {g.Meaning} |");
        }
        sb.AppendLine($"| break_even_tokens | {Fmt(this["break_even_tokens"])} | | | measured (fitted) break-even context |");
        sb.AppendLine($"| break_even_model_tokens | {Fmt(this["break_even_model_tokens"])} | | | FLOP-model break-even context |");
        foreach (var p in new[] { "fp32", "bf16_mixed" })
        {
            sb.AppendLine($"| meta_step_seconds_{p} | {Fmt(this[$"meta_step_seconds_{p}"])} | | | {p} meta-step wall seconds (GPT-2-small shapes, T=2) |");
            sb.AppendLine($"| meta_step_peak_mb_{p} | {Fmt(this[$"meta_step_peak_mb_{p}"])} | | | {p} base weights + peak activation MB |");
        }
        return sb.ToString();
    }

    public static string Fmt(double? v) => v is double d ? BenchTable.Format(d) : "—";
}
