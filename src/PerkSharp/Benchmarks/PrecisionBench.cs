using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Benchmarks;

/// <summary>
/// fp32 vs bf16-mixed meta-step on GPT-2-small shapes (12 layers in a full run, 1K context, truncated T = 2 of N = 4),
/// measured back to back in one phase so both see the same machine. bf16-mixed = bf16 base weights and activations,
/// fp32 LoRA, rates and weighting model (what `bf16: true` trains). Memory = base weights + peak activation memory
/// of the step (resident growth over the baseline), since halving the weights is half of what bf16 saves.
/// Steps take tens of seconds at full size, so each precision is timed over <see cref="BenchOptions.PrecisionSteps"/>.
/// </summary>
public sealed class PrecisionBench
{
    readonly BenchOptions _o;
    readonly TextWriter _log;
    readonly MachinePeak _peak;

    public PrecisionBench(BenchOptions options, TextWriter log, MachinePeak peak) { _o = options; _log = log; _peak = peak; }

    public static readonly (string Label, ScalarType Base)[] Precisions = { ("fp32", ScalarType.Float32), ("bf16_mixed", ScalarType.BFloat16) };

    public void Run(BenchSummary summary, Action<BenchTable> addTable)
    {
        var table = new BenchTable("meta_step_precision", "precision", "layers", "context_tokens", "steps_timed", "seconds",
            "cpu_seconds", "achieved_gflops", "weights_mb", "activation_peak_mb", "peak_mb");
        var cfg = BenchWorkloads.Gpt2SmallConfig(_o.MetaLayers, 1024);
        int ctx = _o.MetaContexts[0];
        var (_, mode, unrollStart, t) = MetaStepBench.Modes.Single(m => m.Label == "truncated-T2");
        var flops = new FlopModel(TransformerShape.FromConfig(cfg, "gpt2-small"), _o.LoraRank);
        double gflop = flops.MetaStep(Math.Max(1, ctx / _o.SegmentLength), _o.SegmentLength, _o.PromptTokens + _o.AnswerTokens, _o.InnerSteps, t).Total / 1e9;
        var steps = new MetaStepBench(_o, _log, _peak);
        foreach (var (label, dtype) in Precisions)
        {
            // Same seed: the bf16 base is the fp32 one rounded. The same token ids for both (same Random seed).
            using var model = ModelFactory.Create(cfg, dtype, seed: 1);
            double weightsMb = model.parameters().Sum(p => p.numel() * p.ElementSize) / 1048576.0;
            var r = steps.Measure(model, cfg, ctx, mode, unrollStart, new Random(7), gflop, _o.MetaRepeats, _o.PrecisionSteps);
            table.Add(label, cfg.NumHiddenLayers, ctx, r.Steps, r.Seconds, r.Cpu, gflop / r.Seconds, weightsMb, r.PeakMb, weightsMb + r.PeakMb);
            _log.WriteLine($"bench: precision {label}: {r.Seconds:0.000} s/step (CPU {r.Cpu:0.0} s), weights {weightsMb:0} MB + " +
                           $"activations {r.PeakMb:0} MB = {weightsMb + r.PeakMb:0} MB");
        }
        addTable(table);
        Summarize(table, summary);
        summary.Notes.Add($"meta_step_*_fp32 / _bf16_mixed: GPT-2-small shapes ({cfg.NumHiddenLayers} layers), truncated T=2, N=4, " +
                          $"{ctx} context tokens, {_o.PrecisionSteps} step(s) each, measured back to back");
    }

    /// <summary>Summary keys from a meta_step_precision table: per-precision seconds and peak MB, and bf16-mixed / fp32 ratios.</summary>
    public static void Summarize(BenchTable table, BenchSummary summary)
    {
        double Get(string precision, string column) =>
            table.Rows.Where(r => (string)table.Get(r, "precision")! == precision).Select(r => table.Num(r, column)).DefaultIfEmpty(double.NaN).First();
        foreach (var (label, _) in Precisions)
        {
            summary[$"meta_step_seconds_{label}"] = Get(label, "seconds");
            summary[$"meta_step_peak_mb_{label}"] = Get(label, "peak_mb");
        }
        summary["bf16_mixed_time_ratio"] = Get("bf16_mixed", "seconds") / Get("fp32", "seconds");
        summary["bf16_mixed_memory_ratio"] = Get("bf16_mixed", "peak_mb") / Get("fp32", "peak_mb");
        summary.Extra["bf16_mixed_cpu_time_ratio"] = Math.Round(Get("bf16_mixed", "cpu_seconds") / Get("fp32", "cpu_seconds"), 4) is double c && double.IsFinite(c) ? c : null;
    }
}
