using System.Text;

namespace PerkSharp.Benchmarks;

/// <summary>summary.md: machine and load, the goals table, the FLOP model's formulas, every table and plot.</summary>
public static class BenchMarkdown
{
    public const string FlopFormulas = """
        ### FLOP model (matmul FLOPs, 2 per multiply-add; code: `src/PerkSharp/Benchmarks/FlopModel.cs`)

        n tokens; per layer, each base projection W [out, in] costs 2·n·in·out forward; a LoRA target of rank r costs
        a + b with a = 2·n·r·in (x·Aᵀ) and b = 2·n·r·out (low·Bᵀ); attention costs 4·pairs·heads·head_dim per layer
        (QKᵀ and P·V), where pairs = T·(past+T) for the explicit kernel (the full score rectangle, masked or not) and
        T·past + T(T+1)/2 for the fused causal kernel; the LM head costs 2·d·V per position whose logits are computed
        (every position for a loss, only the last one for a generation prefill); the weighting MLP 2·n·(d·128 + 128).
        Element-wise work (norms, GELU, softmax, AdamW updates) is not counted.

        * **Backward of an inner step** (gradient w.r.t. LoRA only; base weights frozen, so no weight gradients):
          base projections 1× forward (input gradient only), LoRA 2(a + b), attention 2×, head and weighting MLP 1×.
          Layers below the first adapted layer get no backward; in the first adapted layer the projections reading the
          layer input (c_attn / q,k,v) need no input gradient (base 0, LoRA a + 2b).
        * **Double backward of a second-order step** (outer gradient through the inner gradient's graph): the outer pass
          traverses the backward graph (every matmul w.r.t. each operand that carries graph) and the forward graph once
          more: base projections 2× their backward, LoRA 6(a + b) (first-layer input readers 2a + 6b), attention 6× its
          forward, head 2×, weighting MLP 4× (its weights are meta-parameters).
        * **Meta-step** (N inner steps, last T second-order): N·(F + B)[context] + T·D[context] + (F + B)[query].
          Full: T = N; truncated: T = N − unroll_start; first-order: T = 0.
        * **PERK test time**: N·(F + B)[context] (independent of the accumulation k, which only splits the context into
          k micro-batches) + greedy answer: prefill of the question prompt (last-position logits) and one-token steps
          with a KV cache, LoRA unmerged.
        * **In-context reasoning**: prefill of context + prompt with the fused causal kernel (last-position logits),
          then one-token steps attending to the whole cache.
        * **Break-even**: the smallest context (in whole segments) where PERK's test-time FLOPs ≤ ICR's. PERK is linear
          in the context, ICR quadratic (attention), so there is one crossing.
        * **MFU** = model FLOPs / wall time / GEMM peak (float32, this machine, measured in the same run).
        """;

    public static string Render(BenchOptions o, BenchSummary s, IReadOnlyList<BenchTable> tables,
        IReadOnlyList<(string File, string Caption)> plots, string loadStart, string loadEnd, TimeSpan elapsed)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# perk bench ({(o.Quick ? "quick" : "full")})");
        sb.AppendLine();
        sb.AppendLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC · {Environment.ProcessorCount} cores ({CpuModel()}) · " +
                      $"{TorchSharp.torch.get_num_threads()} libtorch threads · load average {loadStart} at start, {loadEnd} at end · " +
                      $"{Runtime.Progress.Fmt(elapsed.TotalSeconds)}.");
        sb.AppendLine();
        sb.AppendLine("Timings on a shared machine are noisy (other processes compete for the cores); every efficiency " +
                      "figure is a ratio to the GEMM peak measured in the same run, which cancels part of that noise.");
        sb.AppendLine();
        sb.AppendLine("## Goals");
        sb.AppendLine();
        sb.AppendLine(s.GoalTable());
        sb.AppendLine("Other figures (`*_cpu`: the same efficiency per CPU-second this process received, against the GEMM's " +
                      "GFLOP per CPU-second; it discounts time slices lost to other processes):");
        sb.AppendLine();
        foreach (var (k, v) in s.Extra) sb.AppendLine($"* {k}: {v?.ToJsonString()}");
        sb.AppendLine();
        if (s.Notes.Count > 0)
        {
            sb.AppendLine("## Notes");
            sb.AppendLine();
            foreach (var n in s.Notes) sb.AppendLine("* " + n);
            sb.AppendLine();
        }
        sb.AppendLine(FlopFormulas);
        foreach (var t in tables)
        {
            sb.AppendLine($"## {t.Name} (`{t.Name}.csv`)");
            sb.AppendLine();
            sb.AppendLine(t.ToMarkdown());
        }
        if (plots.Count > 0)
        {
            sb.AppendLine("## Plots");
            sb.AppendLine();
            foreach (var (file, caption) in plots) sb.AppendLine($"![{caption}]({file})");
        }
        return sb.ToString();
    }

    static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "unknown CPU"; }
    }
}
