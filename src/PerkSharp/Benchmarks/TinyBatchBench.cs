using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Benchmarks;

/// <summary>
/// Batched meta-steps at the quickstart's own shapes (2 layers × 64, vocabulary 3,000, 1,536 positions, rank-8 LoRA,
/// N = 4 with the last T = 2 second-order), for its two stages: facts only (one segment of ~96 tokens) and 1k (8
/// segments of 128). Meta-examples per second and MFU for train_batch_size B = 1 and larger B, each B timed in the same
/// process right after the others, so old (B = 1) and new paths share the machine's state. Keys (facts-only stage):
/// tiny_meta_examples_per_second_b1 / _best, meta_batch_speedup, tiny_meta_step_mfu; the 1k stage's go to the extras.
/// </summary>
public sealed class TinyBatchBench
{
    readonly BenchOptions _o;
    readonly TextWriter _log;
    readonly MachinePeak _peak;

    public TinyBatchBench(BenchOptions options, TextWriter log, MachinePeak peak) { _o = options; _log = log; _peak = peak; }

    /// <summary>The quickstart base model's shape (Training/Pretrainer defaults).</summary>
    public static ModelConfig QuickstartConfig() => ModelConfig.FromJson(new()
    {
        ["model_type"] = "gpt2", ["vocab_size"] = 3000, ["n_embd"] = 64, ["n_layer"] = 2, ["n_head"] = 2,
        ["n_positions"] = 1536, ["eos_token_id"] = 2, ["bos_token_id"] = 2,
    }, "quickstart-shaped config");

    /// <summary>(label, segments, segment tokens, batch sizes): the quickstart's facts-only stage and its 1k stage.</summary>
    public (string Stage, int Segments, int SegmentTokens, int[] Batches)[] Shapes => _o.Quick
        ? new[] { ("0k", 1, 96, new[] { 1, 16 }), ("1k", 8, _o.SegmentLength, new[] { 1, 4 }) }
        : new[] { ("0k", 1, 96, new[] { 1, 4, 16, 32 }), ("1k", 8, _o.SegmentLength, new[] { 1, 2, 4, 8 }) };

    public void Run(BenchSummary summary, Action<BenchTable> addTable)
    {
        var cfg = QuickstartConfig();
        var table = new BenchTable("tiny_meta_batch", "stage", "batch", "segments", "segment_tokens", "steps_timed", "seconds_per_step",
            "examples_per_second", "model_gflop_per_step", "achieved_gflops", "mfu", "peak_mb");
        using var model = ModelFactory.Create(cfg, ScalarType.Float32, seed: 1);
        var flops = new FlopModel(TransformerShape.FromConfig(cfg, "tiny-quickstart"), 8);
        var rng = new Random(5);
        foreach (var (stage, segments, segTokens, batches) in Shapes)
        {
            double gflopPerExample = flops.MetaStep(segments, segTokens, _o.PromptTokens + _o.AnswerTokens, 4, 2).Total / 1e9;
            foreach (int b in batches)
            {
                var settings = BenchWorkloads.Settings(8, InnerLoopMode.Truncated, 2) with { Lora = new Adapters.LoraOptions { Rank = 8, Alpha = 8, Dropout = 0 } };
                using var meta = new MetaParameters(model, settings, ScalarType.Float32, seed: 3);
                using var learner = new MetaLearner(model, meta, totalSteps: 1000, warmupSteps: 0);
                var ctxSeqs = Enumerable.Range(0, b).Select(_ => (IReadOnlyList<TokenizedSequence>)BenchWorkloads.Context(cfg, segments * segTokens, segTokens, rng)).ToList();
                var qSeqs = Enumerable.Range(0, b).Select(_ => BenchWorkloads.Question(cfg, _o.PromptTokens, _o.AnswerTokens, rng)).ToList();
                int pad = cfg.EosTokenId ?? 0;
                var context = b == 1 ? PerkBatcher.MicroBatches(ctxSeqs[0], 1, false, pad) : PerkBatcher.BatchedMicroBatches(ctxSeqs, 1, false, pad);
                using var question = b == 1 ? PerkBatcher.Separate(qSeqs, pad) : PerkBatcher.BatchedQuestions(qSeqs, pad);
                try
                {
                    long baseline = PeakMemory.BeginPhase();
                    learner.Step(context, question);                                    // warm-up (allocator, kernel choice)
                    var times = new List<double>();
                    int repeats = Math.Max(3, (_o.Quick ? 16 : 48) / b);                 // about the same examples per batch size
                    for (int i = 0; i < repeats; i++) times.Add(BenchWorkloads.Clock(() => learner.Step(context, question)).Wall);
                    double sec = BenchWorkloads.Median(times), gflop = gflopPerExample * b;
                    double peak = (PeakMemory.PhasePeak - baseline) / 1048576.0;
                    table.Add(stage, b, segments, segTokens, repeats, sec, b / sec, gflop, gflop / sec, gflop / sec / _peak.Gflops, peak);
                    _log.WriteLine($"bench: tiny meta {stage} B={b}: {sec:0.000} s/step, {b / sec:0.0} examples/s, MFU {gflop / sec / _peak.Gflops:0.000}");
                }
                finally { foreach (var mb in context) mb.Dispose(); }
            }
        }
        addTable(table);
        // Keys at the facts-only stage, where the quickstart batches; the 1k stage's figures go to the extras.
        foreach (var stage in new[] { "0k", "1k" })
        {
            var rows = table.Rows.Where(r => (string)table.Get(r, "stage")! == stage).ToList();
            double b1 = table.Num(rows[0], "examples_per_second");
            var best = rows.OrderByDescending(r => table.Num(r, "examples_per_second")).First();
            string prefix = stage == "0k" ? "" : "1k_";
            if (stage == "0k")
            {
                summary["tiny_meta_examples_per_second_b1"] = b1;
                summary["tiny_meta_examples_per_second_best"] = table.Num(best, "examples_per_second");
                summary["meta_batch_speedup"] = table.Num(best, "examples_per_second") / b1;
                summary["tiny_meta_step_mfu"] = table.Num(best, "mfu");
            }
            else
            {
                summary.Extra["tiny_1k_meta_examples_per_second_b1"] = Math.Round(b1, 3);
                summary.Extra["tiny_1k_meta_batch_speedup"] = Math.Round(table.Num(best, "examples_per_second") / b1, 3);
                summary.Extra["tiny_1k_meta_step_mfu"] = Math.Round(table.Num(best, "mfu"), 4);
            }
            summary.Notes.Add($"tiny_meta {stage}: quickstart shapes ({table.Num(rows[0], "segments")} x {table.Num(rows[0], "segment_tokens")} tokens), best B = {table.Num(best, "batch")}");
        }
    }
}
