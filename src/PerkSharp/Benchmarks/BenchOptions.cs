namespace PerkSharp.Benchmarks;

/// <summary>What `perk bench` runs and how large. Quick: ~3 minutes; full: up to ~30 minutes on 2 cores.</summary>
public sealed record BenchOptions
{
    public static readonly string[] AllPhases = { "gemm", "leak", "meta", "precision", "tiny-batch", "test-time" };

    public bool Quick { get; init; }
    public string OutDir { get; init; } = "bench-out";
    public IReadOnlyList<string> Phases { get; init; } = AllPhases;

    /// <summary>Configurations predicted (from smaller measured ones) to exceed this peak are skipped, not run.</summary>
    public long MemoryBudgetBytes { get; init; } = 6L << 30;

    public bool Runs(string phase) => Phases.Contains(phase);

    // --- sizes -----------------------------------------------------------------------------------------------------
    public int[] GemmSizes => Quick ? new[] { 256, 512, 1024, 2048 } : new[] { 256, 512, 1024, 2048, 3072 };
    public double GemmSecondsPerSize => Quick ? 0.6 : 2.0;

    /// <summary>
    /// Meta-steps of the tiny model for the leak check: 1,500 in a full run (both RSS windows, 50 -> 500 and 750 -> 1,500),
    /// 500 in a quick one (the steady-state window then stays unmeasured). Null: the mode's default.
    /// </summary>
    public int? LeakStepsOverride { get; init; }
    public int LeakSteps => LeakStepsOverride ?? (Quick ? 500 : 1500);

    /// <summary>Tokens per context segment (the paper's latency study uses 128-token segments).</summary>
    public int SegmentLength => 128;

    /// <summary>Meta-step contexts (tokens) on GPT-2-small shapes.</summary>
    public int[] MetaContexts => Quick ? new[] { 256 } : new[] { 1024, 2048, 4096 };
    public int[] TinyMetaContexts => Quick ? new[] { 256 } : new[] { 1024, 2048, 4096 };

    /// <summary>Decoder layers of the GPT-2-small-shaped models (widths are GPT-2 small's).</summary>
    public int MetaLayers => Quick ? 2 : 12;
    public int TestTimeLayers => Quick ? 2 : 4;

    /// <summary>Timed meta-steps per configuration (after one warm-up step).</summary>
    public int MetaRepeats => Quick ? 1 : 2;

    /// <summary>Timed meta-steps per precision in the fp32 vs bf16-mixed phase (a full-size step takes ~45 s on 2 cores).</summary>
    public int PrecisionSteps => Quick ? 2 : 1;

    /// <summary>Test-time contexts: the scaling key compares the last with the one 8x smaller.</summary>
    public int[] TestContexts => Quick ? new[] { 256, 512, 1024, 2048 } : new[] { 1024, 2048, 4096, 8192, 16384, 32768 };
    public int ScalingBase => Quick ? 256 : 4096;
    public int ScalingTop => Quick ? 2048 : 32768;

    /// <summary>
    /// Context on which accumulation k = 1/4/16 is compared: at least 16 segments, or k = 16 cannot make 16 micro-batches
    /// (the official torch.chunk split gives ceil(n/k)-segment chunks: 8 segments at k = 16 are only 8 micro-batches).
    /// </summary>
    public int AccumContext => Quick ? 2048 : 4096;
    public int[] Accumulations => new[] { 1, 4, 16 };

    public int PromptTokens => 32;
    public int AnswerTokens => 16;
    public int InnerSteps => 4;
    public int LoraRank => 16;
}
