using PerkSharp.Benchmarks;

namespace PerkSharp.Tests.Bench;

/// <summary>
/// The FLOP formulas on a model small enough to count by hand: GPT-2 style, 1 layer, hidden 2, one head of 2,
/// MLP 4, vocabulary 3, LoRA rank 1, one sequence of 2 tokens. Every expected number below is counted term by term
/// in the comments (projection widths: c_attn 2→6, attn.c_proj 2→2, c_fc 2→4, mlp.c_proj 4→2).
/// </summary>
public class FlopModelTests
{
    static readonly TransformerShape Tiny = new("hand", Layers: 1, Hidden: 2, Heads: 1, KvHeads: 1, HeadDim: 2,
        Intermediate: 4, Vocab: 3, Gpt2Style: true);

    [Fact]
    public void ForwardOfTwoTokensCountsEveryMatmul()
    {
        var m = new FlopModel(Tiny, loraRank: 1);
        var f = m.Pass(1, 2, AttentionKernel.Explicit, allLogits: true, lora: false, weighting: false);
        // base: 2 tokens × 2 FLOPs × (12 + 4 + 8 + 8 weights) = 128
        // attention: 4 score pairs (2×2 rectangle) × 4 FLOPs × head dim 2 = 32
        // head: 2 positions × 2 × (2×3) = 24
        Assert.Equal(128 + 32 + 24, f.Forward);
        Assert.Equal(0, f.Backward);
        Assert.Equal(0, f.DoubleBackward);
    }

    [Fact]
    public void LoraBackwardSkipsWeightGradientsOfFrozenBaseAndFirstLayerInputGradient()
    {
        var m = new FlopModel(Tiny, loraRank: 1);
        var p = m.Pass(1, 2, AttentionKernel.Explicit, allLogits: true, lora: true, weighting: false);
        // LoRA forward: 2 tokens × 2 × r(in + out): c_attn 8+24, c_proj 8+8, c_fc 8+16, mlp.c_proj 16+8 = 96
        Assert.Equal(184 + 96, p.Forward);
        // Backward: base input gradients except c_attn (reads the constant layer input): 4·(4 + 8 + 8) = 80
        //   LoRA: c_attn a + 2b = 8 + 48 = 56 (no dX); others 2(a+b) = 32 + 48 + 48 = 128 -> 184
        //   attention 2 × 32 = 64; head input gradient 24
        Assert.Equal(80 + 184 + 64 + 24, p.Backward);
        // Double backward: base 2 × 80 = 160; LoRA c_attn 2a + 6b = 16 + 144 = 160, others 6(a+b) = 96 + 144 + 144
        //   attention 6 × 32 = 192; head 2 × 24 = 48
        Assert.Equal(160 + 160 + 96 + 144 + 144 + 192 + 48, p.DoubleBackward);
    }

    [Fact]
    public void WeightingMlpAddsItsMatmuls()
    {
        var m = new FlopModel(Tiny, loraRank: 1);
        var with = m.Pass(1, 2, AttentionKernel.Explicit, true, true, weighting: true);
        var without = m.Pass(1, 2, AttentionKernel.Explicit, true, true, weighting: false);
        // hidden 2 -> 128 -> 1 on 2 tokens: 2 × 2 × (2·128 + 128) = 1536 forward, 1× backward, 4× double backward
        Assert.Equal(1536, with.Forward - without.Forward);
        Assert.Equal(1536, with.Backward - without.Backward);
        Assert.Equal(4 * 1536, with.DoubleBackward - without.DoubleBackward);
    }

    [Fact]
    public void LayersBelowTheFirstAdaptedLayerHaveNoBackward()
    {
        var two = Tiny with { Layers = 2 };
        var top1 = new FlopModel(two, loraRank: 1, adaptedLayers: 1);
        var p = top1.Pass(1, 2, AttentionKernel.Explicit, allLogits: true, lora: true, weighting: false);
        // Forward: 2 layers of base + attention (2 × 160), head 24, LoRA only on the top layer 96.
        Assert.Equal(2 * 160 + 24 + 96, p.Forward);
        // Backward equals the one-layer model's: the lower layer is never differentiated.
        Assert.Equal(80 + 184 + 64 + 24, p.Backward);

        var all = new FlopModel(two, loraRank: 1);
        var q = all.Pass(1, 2, AttentionKernel.Explicit, allLogits: true, lora: true, weighting: false);
        // Both adapted: the top layer's c_attn now needs input gradients (base 48, LoRA dX 8) and attention of both.
        Assert.Equal((80 + 48) + 80 + (184 + 8) + 184 + 2 * 64 + 24, q.Backward);
    }

    [Theory]
    [InlineData(4, 0, 16, 10)]    // prefill of 4 tokens: rectangle 16 vs causal triangle 10
    [InlineData(1, 5, 6, 6)]      // one decode step after 5 cached tokens sees 6 keys either way
    [InlineData(2, 3, 10, 9)]     // 2 new tokens after 3: rectangle 2×5; causal 2·3 + 3
    public void ScorePairsOfExplicitAndFusedKernels(long t, long past, double explicitPairs, double causalPairs)
    {
        Assert.Equal(explicitPairs, FlopModel.Pairs(t, past, AttentionKernel.Explicit));
        Assert.Equal(causalPairs, FlopModel.Pairs(t, past, AttentionKernel.FusedCausal));
    }

    [Fact]
    public void MetaStepIsNInnerPassesPlusTDoubleBackwardsPlusOuterPass()
    {
        var m = new FlopModel(Tiny, loraRank: 1);
        var ctx = m.Pass(3, 2, AttentionKernel.Explicit, true, true, weighting: true);
        var q = m.Pass(1, 5, AttentionKernel.Explicit, true, true, weighting: false);
        var full = m.MetaStep(segments: 3, segmentLength: 2, queryLength: 5, innerSteps: 4, secondOrderSteps: 4);
        var trunc = m.MetaStep(3, 2, 5, 4, 2);
        var fo = m.MetaStep(3, 2, 5, 4, 0);
        Assert.Equal(4 * ctx.Forward + q.Forward, full.Forward);
        Assert.Equal(4 * ctx.Backward + q.Backward, full.Backward);
        Assert.Equal(4 * ctx.DoubleBackward, full.DoubleBackward);
        Assert.Equal(2 * ctx.DoubleBackward, trunc.DoubleBackward);
        Assert.Equal(0, fo.DoubleBackward);
        Assert.Equal(full.Forward + full.Backward, fo.Total);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.MetaStep(3, 2, 5, 4, 5));
    }

    [Fact]
    public void TestTimeCostsByHand()
    {
        var m = new FlopModel(Tiny, loraRank: 1);
        // Generation without LoRA, prompt 2, 2 new tokens: prefill (base 128, causal pairs 3 × 4 × 2 = 24,
        // head for the last position only 12) + one decode step (base 64, 3 keys × 4 × 2 = 24, head 12).
        Assert.Equal(128 + 24 + 12 + 64 + 24 + 12, m.Generate(2, 2, lora: false));
        // With LoRA: + 96 (prefill, 2 tokens) + 48 (decode, 1 token).
        Assert.Equal(128 + 24 + 12 + 64 + 24 + 12 + 96 + 48, m.Generate(2, 2, lora: true));
        // ICR on a 4-token context with that prompt = generation from a 6-token prompt.
        Assert.Equal(m.Generate(6, 2, lora: false), m.IcrTestTime(4, 2, 2));
        // PERK: encode 2 segments of 2 tokens with N = 3 steps, no graph, then answer from the prompt alone.
        var ctx = m.Pass(2, 2, AttentionKernel.Explicit, true, true, weighting: true);
        Assert.Equal(3 * (ctx.Forward + ctx.Backward) + m.Generate(2, 2, lora: true), m.PerkTestTime(4, 2, 2, 2, 3));
    }

    [Fact]
    public void BreakEvenIsTheFirstWholeSegmentContextWherePerkIsCheaper()
    {
        var shape = TransformerShape.Gpt2Small(layers: 2);
        var m = new FlopModel(shape, loraRank: 16);
        long? be = m.BreakEvenTokens(segmentLength: 128, promptLength: 32, answerTokens: 16, innerSteps: 4);
        Assert.NotNull(be);
        long c = be!.Value;
        Assert.Equal(0, c % 128);
        Assert.True(m.PerkTestTime(c, 128, 32, 16, 4) <= m.IcrTestTime(c, 32, 16));
        Assert.True(m.PerkTestTime(c - 128, 128, 32, 16, 4) > m.IcrTestTime(c - 128, 32, 16));
        // More inner steps make encoding dearer, so the crossing moves out; a cap below it gives no crossing.
        Assert.True(m.BreakEvenTokens(128, 32, 16, innerSteps: 8) > c);
        Assert.Null(m.BreakEvenTokens(128, 32, 16, 4, maxTokens: c / 2));
    }
}

public class BreakEvenTests
{
    [Fact]
    public void EqualThroughputReproducesTheFlopModelCrossingAndSlowerIcrMovesItIn()
    {
        var m = new FlopModel(TransformerShape.Gpt2Small(layers: 2), loraRank: 16);
        double Perk(long c) => m.PerkTestTime(c, 128, 32, 16, 4) / 1e9;
        double Icr(long c) => m.IcrTestTime(c, 32, 16) / 1e9;
        long[] measured = { 1024, 2048, 4096, 8192 };
        // Both methods at exactly 50 GFLOP/s with 0.5 s fixed overhead each.
        var perk = measured.Select(c => (Perk(c), 0.5 + Perk(c) / 50)).ToList();
        var icr = measured.Select(c => (Icr(c), 0.5 + Icr(c) / 50)).ToList();
        long? be = BreakEven.Measured(perk, icr, Perk, Icr, 128, 8192, out string how);
        Assert.Equal(m.BreakEvenTokens(128, 32, 16, 4), be);
        Assert.Contains("extrapolated", how);

        // In-context reasoning at half the throughput: PERK wins earlier.
        var slowIcr = measured.Select(c => (Icr(c), 0.5 + Icr(c) / 25)).ToList();
        long? earlier = BreakEven.Measured(perk, slowIcr, Perk, Icr, 128, 8192, out _);
        Assert.True(earlier < be);
    }
}
