using PerkSharp.Generation;
using PerkSharp.Models;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Models;

/// <summary>The forward contract: cache, padding, packing, attention paths, LoRA and input guards agree with each other.</summary>
public class ForwardEquivalenceTests
{
    static Tensor Logits(CausalLM m, LMInput input) { var o = m.forward(input); o.LastHidden.Dispose(); return o.Logits; }

    /// <summary>Greedy decoding by full recomputation of the growing sequence, no cache.</summary>
    static int[] GreedyWithoutCache(CausalLM m, IReadOnlyList<int> prompt, int maxNew, int eos, PerkSharp.Adapters.LoraState? lora = null)
    {
        using var _ = no_grad();
        var seq = prompt.Select(i => (long)i).ToList();
        var outIds = new List<int>();
        for (int s = 0; s < maxNew; s++)
        {
            using var ids = tensor(seq.ToArray(), new long[] { 1, seq.Count });
            using var logits = Logits(m, new LMInput(ids) { Lora = lora });
            int next = (int)logits[0, -1].argmax().item<long>();
            outIds.Add(next); seq.Add(next);
            if (next == eos) break;
        }
        return outIds.ToArray();
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void KvCacheGreedyEqualsRecomputationWithoutCache(string arch)
    {
        using var m = TinyModels.Create(arch);
        var prompt = new[] { 3, 14, 15, 9, 26 };
        var reference = GreedyWithoutCache(m, prompt, 12, eos: -1);
        foreach (bool fused in new[] { true, false })
        {
            var gen = new GreedyGenerator(m, Array.Empty<int>(), padId: 0) { AllowFusedAttention = fused };
            Assert.Equal(reference, gen.Generate(prompt, 12));
        }
        Assert.True(reference.Distinct().Count() > 1, "degenerate test: the model repeats one token");
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void GenerationWithLoraUsesItInEveryStep(string arch)
    {
        using var m = TinyModels.Create(arch);
        var lora = TinyModels.RandomLora(m, 4, 0.5, 9, ScalarType.Float32, requiresGrad: true);
        var prompt = new[] { 3, 14, 15, 9, 26 };
        var gen = new GreedyGenerator(m, Array.Empty<int>(), padId: 0);
        var adapted = gen.Generate(new[] { prompt, new[] { 8, 1 } }, 10, lora)[0];
        Assert.Equal(GreedyWithoutCache(m, prompt, 10, eos: -1, lora), adapted);
        Assert.NotEqual(gen.Generate(prompt, 10), adapted);
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void LeftPaddedBatchEqualsOneByOne(string arch)
    {
        using var m = TinyModels.Create(arch);
        var prompts = new[] { new[] { 5, 8, 13 }, new[] { 2, 7, 1, 8, 28, 18, 28 }, new[] { 44 } };
        var gen = new GreedyGenerator(m, Array.Empty<int>(), padId: 0);
        var batched = gen.Generate(prompts, 9);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(gen.Generate(prompts[i], 9), batched[i]);
    }

    [Fact]
    public void RowStopsAfterEmittingEndOfTextWhichIsKept()
    {
        using var m = TinyModels.Create("qwen2");
        var prompts = new[] { new[] { 5, 8, 13 }, new[] { 2, 7, 1, 8 } };
        var free = new GreedyGenerator(m, Array.Empty<int>(), padId: 0).Generate(prompts, 6);
        int eos = free[0][2];   // make the third token of row 0 the end-of-text
        var stopped = new GreedyGenerator(m, new[] { eos }, padId: 0).Generate(prompts, 6);
        Assert.Equal(free[0].Take(Array.IndexOf(free[0], eos) + 1), stopped[0]);
        int cut = Array.IndexOf(free[1], eos);
        Assert.Equal(cut < 0 ? free[1] : free[1].Take(cut + 1), stopped[1]);
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void PackedSegmentsWithRestartingPositionsEqualSeparateRuns(string arch)
    {
        using var m = TinyModels.Create(arch);
        var segs = new[] { new long[] { 4, 9, 16, 25 }, new long[] { 36, 49, 1 }, new long[] { 7, 3 } };
        var ids = segs.SelectMany(s => s).ToArray();
        var pos = segs.SelectMany(s => Enumerable.Range(0, s.Length).Select(i => (long)i)).ToArray();
        var seg = segs.SelectMany((s, k) => Enumerable.Repeat((long)(k + 1), s.Length)).ToArray();
        foreach (bool fused in new[] { false, true })
        {
            using var packed = Logits(m, new LMInput(TinyModels.Ids(ids), TinyModels.Ids(pos), TinyModels.Ids(seg)) { AllowFusedAttention = fused });
            int off = 0;
            foreach (var s in segs)
            {
                using var alone = Logits(m, new LMInput(TinyModels.Ids(s)));
                using var part = packed.narrow(1, off, s.Length);
                Assert.True(part.allclose(alone, rtol: 1e-4, atol: 1e-5), $"segment at {off} (fused={fused})");
                off += s.Length;
            }
        }
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void FusedAndExplicitAttentionAgreeAndPaddedRowsAreFinite(string arch)
    {
        using var m = TinyModels.Create(arch);
        using var ids = TinyModels.Ids(new long[] { 0, 0, 3, 4, 5 }, new long[] { 6, 7, 8, 9, 10 });
        using var mask = TinyModels.Ids(new long[] { 0, 0, 1, 1, 1 }, new long[] { 1, 1, 1, 1, 1 });
        using var pos = TinyModels.Ids(new long[] { 0, 0, 0, 1, 2 }, new long[] { 0, 1, 2, 3, 4 });
        using var expl = Logits(m, new LMInput(ids, pos, mask));
        using var fused = Logits(m, new LMInput(ids, pos, mask) { AllowFusedAttention = true });
        Assert.False(expl.isnan().any().item<bool>());
        Assert.False(fused.isnan().any().item<bool>());
        Assert.True(expl.allclose(fused, rtol: 1e-4, atol: 1e-5));
        // Causal, unmasked: the fused path takes the kernel's causal flag.
        using var e2 = Logits(m, new LMInput(ids));
        using var f2 = Logits(m, new LMInput(ids) { AllowFusedAttention = true });
        Assert.True(e2.allclose(f2, rtol: 1e-4, atol: 1e-5));
        // The left-padded row's real tokens equal the unpadded prompt.
        using var alone = Logits(m, new LMInput(TinyModels.Ids(new long[] { 3, 4, 5 })));
        Assert.True(expl[0].narrow(0, 2, 3).allclose(alone[0], rtol: 1e-4, atol: 1e-5));
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void LoraWithZeroBLeavesLogitsUnchangedAndNonZeroBChangesThem(string arch)
    {
        using var m = TinyModels.Create(arch);
        using var ids = TinyModels.Ids(new long[] { 1, 2, 3, 4, 5, 6 });
        using var plain = Logits(m, new LMInput(ids));
        using var zeroB = Logits(m, new LMInput(ids) { Lora = TinyModels.RandomLora(m, 4, 0.0, 3, ScalarType.Float32) });
        using var someB = Logits(m, new LMInput(ids) { Lora = TinyModels.RandomLora(m, 4, 0.1, 3, ScalarType.Float32) });
        Assert.True(TinyModels.Same(plain, zeroB));
        Assert.False(plain.allclose(someB, rtol: 1e-3, atol: 1e-3));
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void LastLogitsOnlyAndHiddenStateShapes(string arch)
    {
        using var m = TinyModels.Create(arch);
        using var ids = TinyModels.Ids(new long[] { 1, 2, 3, 4 }, new long[] { 5, 6, 7, 8 });
        var full = m.forward(new LMInput(ids));
        var last = m.forward(new LMInput(ids) { LastLogitsOnly = true });
        Assert.Equal(new long[] { 2, 4, TinyModels.Vocab }, full.Logits.shape);
        Assert.Equal(new long[] { 2, 4, 32 }, full.LastHidden.shape);
        Assert.Equal(new long[] { 2, 1, TinyModels.Vocab }, last.Logits.shape);
        Assert.True(last.Logits[.., 0].allclose(full.Logits[.., -1], rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void BFloat16ModelRunsInBFloat16AndTracksFloat32()
    {
        using var m32 = TinyModels.Create("qwen2");
        using var m16 = TinyModels.Create("qwen2", dtype: ScalarType.BFloat16);
        Assert.All(m16.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var ids = TinyModels.Ids(new long[] { 1, 2, 3, 4, 5 });
        using var a = Logits(m32, new LMInput(ids));
        using var b = Logits(m16, new LMInput(ids) { AllowFusedAttention = true });
        Assert.Equal(ScalarType.BFloat16, b.dtype);
        using var diff = a.sub(b.to(ScalarType.Float32)).abs().max();
        Assert.True(diff.item<float>() < 0.1 * a.abs().max().item<float>(), $"bf16 deviates by {diff.item<float>()}");
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void BadInputsRaisePerkExceptionBeforeNativeCode(string arch)
    {
        using var m = TinyModels.Create(arch);
        Assert.Throws<PerkException>(() => m.forward(new LMInput(TinyModels.Ids(new long[] { 1, TinyModels.Vocab }))));
        Assert.Throws<PerkException>(() => m.forward(new LMInput(TinyModels.Ids(new long[] { -1, 2 }))));
        Assert.Throws<PerkException>(() => m.forward(new LMInput(TinyModels.Ids(new long[] { 1, 2 }), AttentionMask: TinyModels.Ids(new long[] { 1, 1, 1 }))));
        Assert.Throws<PerkException>(() => m.forward(new LMInput(TinyModels.Ids(new long[] { 1, 2 }), TinyModels.Ids(new long[] { 0 }))));
        Assert.Throws<PerkException>(() => new GreedyGenerator(m, new[] { 60 }, 0).Generate(new[] { 1, 99 }, 3));
        var lora = TinyModels.RandomLora(m, 2, 0.1, 1, ScalarType.Float32);
        var wrong = new PerkSharp.Adapters.LoraState(lora.A.Select(a => a is null ? null : a.narrow(1, 0, 8)).ToList(), lora.B, 1.0);
        Assert.Throws<PerkException>(() => m.forward(new LMInput(TinyModels.Ids(new long[] { 1, 2 })) { Lora = wrong }));
        if (arch == "gpt2")
        {
            Assert.Throws<PerkException>(() => m.forward(new LMInput(TinyModels.Ids(new long[] { 1, 2 }), TinyModels.Ids(new long[] { 0, 64 }))));
            Assert.Throws<PerkException>(() => m.forward(new LMInput(TinyModels.Ids(Enumerable.Repeat(1L, 65).ToArray()))));
        }
    }
}
