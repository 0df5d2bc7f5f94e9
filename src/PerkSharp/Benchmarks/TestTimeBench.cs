using PerkSharp.Generation;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Benchmarks;

/// <summary>
/// Test-time cost as the context grows: PERK (encode the context into LoRA with N = 4 steps and accumulation k, then
/// answer from the question prompt alone) against in-context reasoning (prefill context + prompt with the fused causal
/// kernel, then decode), on one GPT-2-small-shaped model whose positions are extended to the largest context. Both
/// answer <see cref="BenchOptions.AnswerTokens"/> greedy tokens (no early stop: the weights are random).
/// </summary>
public sealed class TestTimeBench
{
    readonly BenchOptions _o;
    readonly TextWriter _log;
    readonly MachinePeak _peak;

    public TestTimeBench(BenchOptions options, TextWriter log, MachinePeak peak) { _o = options; _log = log; _peak = peak; }

    sealed record Row(string Method, int Context, int K, double EncodeS, double AnswerS, double TotalS, double CpuS, double Gflop,
        double PeakMb, double PrefillS = double.NaN, double PrefillGflop = double.NaN, double PrefillCpuS = double.NaN);

    public void Run(BenchSummary summary, Action<BenchTable> addTable, Action<string, string> addPlot)
    {
        int maxCtx = _o.TestContexts.Max();
        int positions = (maxCtx + _o.PromptTokens + _o.AnswerTokens + 1023) / 1024 * 1024;
        var cfg = BenchWorkloads.Gpt2SmallConfig(_o.TestTimeLayers, positions);
        using var model = ModelFactory.Create(cfg, ScalarType.Float32, seed: 1);
        var flops = new FlopModel(TransformerShape.FromConfig(cfg, "gpt2-small"), _o.LoraRank);
        using var meta = new MetaParameters(model, BenchWorkloads.Settings(_o.LoraRank, InnerLoopMode.Evaluation, 0, _o.InnerSteps),
            ScalarType.Float32, seed: 3);
        var rng = new Random(11);
        var prompt = BenchWorkloads.Ids(cfg, _o.PromptTokens, rng);
        var rows = new List<Row>();

        // Warm-up at the smallest context (first-call costs are not part of the scaling).
        Perk(model, meta, cfg, flops, _o.TestContexts.Min(), 16, prompt, rng);
        Icr(model, cfg, flops, _o.TestContexts.Min(), prompt, rng);

        var plan = _o.TestContexts.Select(c => (c, 16)).ToList();
        foreach (int k in _o.Accumulations.Where(k => k != 16)) plan.Add((_o.AccumContext, k));
        foreach (var (ctx, k) in plan.OrderBy(p => p.Item1).ThenByDescending(p => p.Item2))
        {
            rows.Add(Perk(model, meta, cfg, flops, ctx, k, prompt, rng));
            Log(rows[^1]);
        }
        foreach (int ctx in _o.TestContexts)
        {
            rows.Add(Icr(model, cfg, flops, ctx, prompt, rng));
            Log(rows[^1]);
        }

        var table = new BenchTable("test_time", "method", "context_tokens", "accumulation", "encode_or_prefill_s", "answer_s",
            "total_s", "cpu_s", "model_gflop", "achieved_gflops", "mfu", "mfu_cpu", "prefill_mfu", "peak_mb");
        foreach (var r in rows)
            table.Add(r.Method, r.Context, r.Method == "perk" ? r.K : null, r.Method == "perk" ? r.EncodeS : r.PrefillS, r.AnswerS,
                r.TotalS, r.CpuS, r.Gflop, r.Gflop / r.TotalS, r.Gflop / r.TotalS / _peak.Gflops, r.Gflop / r.CpuS / _peak.GflopsPerCpuSecond,
                r.Method == "icr" ? r.PrefillGflop / r.PrefillS / _peak.Gflops : null, r.PeakMb);
        addTable(table);
        Summarise(summary, rows, flops);
        Plots(rows, flops, addPlot);
    }

    void Log(Row r) => _log.WriteLine($"bench: {r.Method} ctx {r.Context}{(r.Method == "perk" ? $" k={r.K}" : "")}: " +
                                      $"{r.TotalS:0.00} s ({r.Gflop / r.TotalS:0.0} GFLOP/s), peak {r.PeakMb:0} MB");

    Row Perk(CausalLM model, MetaParameters meta, ModelConfig cfg, FlopModel flops, int ctx, int k, int[] prompt, Random rng)
    {
        var seqs = BenchWorkloads.Context(cfg, ctx, _o.SegmentLength, rng);
        var batches = PerkBatcher.MicroBatches(seqs, k, packed: false, padId: cfg.EosTokenId ?? 0);
        var generator = new GreedyGenerator(model, Array.Empty<int>(), cfg.EosTokenId ?? 0);
        try
        {
            long baseline = PeakMemory.BeginPhase();
            InnerLoopResult? encoded = null;
            // The inner loop PerkSystem.Encode runs (evaluation mode: no graph, dropout on), fed token ids directly.
            var encode = BenchWorkloads.Clock(() => encoded = InnerLoop.Run(model, meta, batches, InnerLoopMode.Evaluation, dropout: true));
            using (encoded)
            {
                var lora = meta.Lora.State(encoded!.FastWeights, training: false);
                var answer = BenchWorkloads.Clock(() => generator.Generate(prompt, _o.AnswerTokens, lora));
                double peak = (PeakMemory.PhasePeak - baseline) / 1048576.0;
                double gflop = flops.PerkTestTime(seqs.Count * (long)_o.SegmentLength, _o.SegmentLength, _o.PromptTokens,
                    _o.AnswerTokens, _o.InnerSteps) / 1e9;
                return new Row("perk", ctx, k, encode.Wall, answer.Wall, encode.Wall + answer.Wall, encode.Cpu + answer.Cpu, gflop, peak);
            }
        }
        finally { foreach (var b in batches) b.Dispose(); }
    }

    /// <summary>Prefill of context + prompt (fused causal, last logits), then one-token steps against the KV cache.</summary>
    Row Icr(CausalLM model, ModelConfig cfg, FlopModel flops, int ctx, int[] prompt, Random rng)
    {
        var ids = BenchWorkloads.Ids(cfg, ctx, rng).Concat(prompt).Select(i => (long)i).ToArray();
        long baseline = PeakMemory.BeginPhase();
        using var noGrad = no_grad();
        using var cache = model.NewCache();
        long next = 0;
        var prefill = BenchWorkloads.Clock(() =>
        {
            using var scope = NewDisposeScope();
            var input = new LMInput(tensor(ids, new long[] { 1, ids.Length })) { Cache = cache, AllowFusedAttention = true, LastLogitsOnly = true };
            next = model.forward(input).Logits.select(1, -1).argmax(-1).item<long>();
        });
        var decode = BenchWorkloads.Clock(() =>
        {
            for (int i = 1; i < _o.AnswerTokens; i++)
            {
                using var scope = NewDisposeScope();
                var input = new LMInput(tensor(new[] { next }, new long[] { 1, 1 })) { Cache = cache, AllowFusedAttention = true, LastLogitsOnly = true };
                next = model.forward(input).Logits.select(1, -1).argmax(-1).item<long>();
            }
        });
        double peak = (PeakMemory.PhasePeak - baseline) / 1048576.0;
        double gflop = flops.IcrTestTime(ctx, _o.PromptTokens, _o.AnswerTokens) / 1e9;
        double prefillGflop = flops.Generate(ctx + _o.PromptTokens, 1, lora: false) / 1e9;
        return new Row("icr", ctx, 0, double.NaN, decode.Wall, prefill.Wall + decode.Wall, prefill.Cpu + decode.Cpu, gflop, peak,
            prefill.Wall, prefillGflop, prefill.Cpu);
    }

    void Summarise(BenchSummary s, List<Row> rows, FlopModel flops)
    {
        var sweep = rows.Where(r => r.Method == "perk" && r.K == 16).OrderBy(r => r.Context).ToList();
        var icr = rows.Where(r => r.Method == "icr").OrderBy(r => r.Context).ToList();
        var top = sweep.FirstOrDefault(r => r.Context == _o.ScalingTop);
        var bottom = sweep.FirstOrDefault(r => r.Context == _o.ScalingBase);
        if (top != null && bottom != null) s["test_time_scaling_32k_4k"] = top.TotalS / bottom.TotalS;
        if (top != null)
        {
            s["test_time_mfu"] = top.Gflop / top.TotalS / _peak.Gflops;
            s.Extra["test_time_mfu_cpu"] = Math.Round(top.Gflop / top.CpuS / _peak.GflopsPerCpuSecond, 4);
        }
        var icrTop = icr.LastOrDefault();
        if (icrTop != null)
        {
            s["icr_prefill_mfu"] = icrTop.PrefillGflop / icrTop.PrefillS / _peak.Gflops;
            s.Extra["icr_prefill_mfu_cpu"] = Math.Round(icrTop.PrefillGflop / icrTop.PrefillCpuS / _peak.GflopsPerCpuSecond, 4);
        }
        var k1 = rows.FirstOrDefault(r => r.Method == "perk" && r.Context == _o.AccumContext && r.K == 1);
        var k16 = rows.FirstOrDefault(r => r.Method == "perk" && r.Context == _o.AccumContext && r.K == 16);
        if (k1 != null && k16 != null) s["accum16_memory_ratio"] = k16.PeakMb / k1.PeakMb;
        s.Notes.Add($"test time: {_o.TestTimeLayers}-layer GPT-2-small shapes; scaling = PERK (k=16) time at {_o.ScalingTop} / at {_o.ScalingBase} tokens; " +
                    $"accumulation compared at {_o.AccumContext} tokens; MFUs at the largest context ({_o.TestContexts.Max()})");

        long? model = flops.BreakEvenTokens(_o.SegmentLength, _o.PromptTokens, _o.AnswerTokens, _o.InnerSteps);
        s["break_even_model_tokens"] = model;
        long seg = _o.SegmentLength;
        var measured = BreakEven.Measured(sweep.Select(r => (r.Gflop, r.TotalS)).ToList(), icr.Select(r => (r.Gflop, r.TotalS)).ToList(),
            c => flops.PerkTestTime(c, seg, _o.PromptTokens, _o.AnswerTokens, _o.InnerSteps) / 1e9,
            c => flops.IcrTestTime(c, _o.PromptTokens, _o.AnswerTokens) / 1e9, seg, _o.TestContexts.Max(), out string how);
        s["break_even_tokens"] = measured;
        s.Notes.Add("break-even (measured): " + how);
    }

    void Plots(List<Row> rows, FlopModel flops, Action<string, string> addPlot)
    {
        var series = new List<PlotSeries>();
        foreach (int k in _o.Accumulations)
        {
            var r = rows.Where(x => x.Method == "perk" && x.K == k).OrderBy(x => x.Context).ToList();
            if (r.Count > 1) series.Add(new PlotSeries($"PERK k={k}", r.Select(x => (double)x.Context).ToArray(), r.Select(x => x.TotalS).ToArray()));
        }
        var icr = rows.Where(x => x.Method == "icr").OrderBy(x => x.Context).ToList();
        series.Add(new PlotSeries("in-context", icr.Select(x => (double)x.Context).ToArray(), icr.Select(x => x.TotalS).ToArray()));
        BenchPlots.Lines(Path.Combine(_o.OutDir, "test_time.png"), "Test time: PERK encode+answer vs in-context prefill+decode",
            "context tokens", "seconds", series, log2X: true, log2Y: true);
        addPlot("test_time.png", "test-time wall time vs context");

        var mem = new List<PlotSeries>();
        var perk16 = rows.Where(x => x.Method == "perk" && x.K == 16).OrderBy(x => x.Context).ToList();
        mem.Add(new PlotSeries("PERK k=16", perk16.Select(x => (double)x.Context).ToArray(), perk16.Select(x => x.PeakMb).ToArray()));
        mem.Add(new PlotSeries("in-context", icr.Select(x => (double)x.Context).ToArray(), icr.Select(x => x.PeakMb).ToArray()));
        BenchPlots.Lines(Path.Combine(_o.OutDir, "test_time_memory.png"), "Test-time peak memory", "context tokens", "peak MB",
            mem, log2X: true);
        addPlot("test_time_memory.png", "test-time peak activation memory");
    }
}
