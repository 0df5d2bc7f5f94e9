using PerkSharp.Adapters;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>Equivalences the method relies on: B = 0 is the base model, truncation at 0 is full unrolling,
/// accumulation equals one batch, packing equals separate rows.</summary>
public class InnerLoopEquivalenceTests
{
    public InnerLoopEquivalenceTests() => TorchRuntime.Initialize(1);

    static readonly CharTokenizer Tok = new();

    /// <summary>Meta-gradients of all meta-parameters, by name.</summary>
    static Dictionary<string, Tensor> MetaGrads(CausalLM model, MetaParameters meta, List<TokenBatch> ctx, TokenBatch q, InnerLoopMode mode)
    {
        meta.zero_grad();
        using (var scope = NewDisposeScope())
        {
            using var r = InnerLoop.Run(model, meta, ctx, mode, dropout: false);
            InnerLoop.AnswerLoss(model, meta, r.FastWeights, q, dropout: false).backward();
        }
        var d = meta.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        meta.zero_grad();
        return d;
    }

    static double MaxDiff(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) =>
        a.Keys.Max(k => (a[k] - b[k]).abs().max().ToDouble());

    static double MaxAbs(Dictionary<string, Tensor> a) => a.Values.Max(t => t.abs().max().ToDouble());

    [Fact]
    public void ZeroBLeavesLogitsUnchanged()
    {
        using var scope = NewDisposeScope();
        var config = TinyModels.Gpt2Config();
        var model = TinyModels.Create(config);
        var meta = new MetaParameters(model, TinyModels.Settings(config), ScalarType.Float64, 3);
        var ids = tensor(Tok.Encode("doc_0: the apple").Select(i => (long)i).ToArray()).unsqueeze(0);
        var baseLogits = model.forward(new LMInput(ids)).Logits;
        var lora = meta.Lora.State(meta.Lora.Initial.Cast<Tensor>().ToList(), training: false);
        var adapted = model.forward(new LMInput(ids) { Lora = lora }).Logits;
        Assert.Equal(0.0, (baseLogits - adapted).abs().max().ToDouble());
        // ... and a non-zero B does change them (the LoRA path is live).
        GradientCheck.Perturb(meta, 4);
        var moved = model.forward(new LMInput(ids) { Lora = meta.Lora.State(meta.Lora.Initial.Cast<Tensor>().ToList(), false) }).Logits;
        Assert.True((baseLogits - moved).abs().max().ToDouble() > 1e-6);
    }

    [Fact]
    public void TruncatedWithUnrollStartZeroEqualsFull()
    {
        using var scope = NewDisposeScope();
        var config = TinyModels.Gpt2Config();
        var model = TinyModels.Create(config);
        var meta = new MetaParameters(model, TinyModels.Settings(config, s => s with { UnrollStart = 0 }), ScalarType.Float64, 3);
        GradientCheck.Perturb(meta, 3);
        var (ctx, q) = GradientCheckProblem.Tensors(Tok, config);
        var full = MetaGrads(model, meta, ctx, q, InnerLoopMode.Full);
        var truncated = MetaGrads(model, meta, ctx, q, InnerLoopMode.Truncated);
        Assert.True(MaxDiff(full, truncated) <= 1e-12 * MaxAbs(full));
        // With unroll_start 2 the gradients differ (the truncation is real).
        var meta2 = new MetaParameters(model, TinyModels.Settings(config, s => s with { UnrollStart = 2 }), ScalarType.Float64, 3);
        GradientCheck.Perturb(meta2, 3);
        var t2 = MetaGrads(model, meta2, ctx, q, InnerLoopMode.Truncated);
        Assert.True(MaxDiff(full, t2) > 1e-9 * MaxAbs(full));
    }

    [Fact]
    public void AccumulationOverMicroBatchesEqualsOneFullBatch()
    {
        using var scope = NewDisposeScope();
        var config = TinyModels.Gpt2Config();
        var model = TinyModels.Create(config);
        var meta = new MetaParameters(model, TinyModels.Settings(config), ScalarType.Float64, 3);
        GradientCheck.Perturb(meta, 3);
        // Four equally long segments: chunks of 2 have the same padded length, so loss/k sums to the full mean.
        var segs = PerkBatcher.Context(new[] { "one apple.", "two pears.", "red shoes.", "big house." }, Tok, 257, 128);
        var one = PerkBatcher.MicroBatches(segs, 1, packed: false, Tok.PadId);
        var two = PerkBatcher.MicroBatches(segs, 2, packed: false, Tok.PadId);
        Assert.Equal(2, two.Count);
        using var q = PerkBatcher.Separate(new[] { PerkBatcher.Question(4, "Which?", "apple", null, Tok, 257, 128) }, Tok.PadId);
        using var r1 = InnerLoop.Run(model, meta, one, InnerLoopMode.Evaluation, dropout: false);
        using var r2 = InnerLoop.Run(model, meta, two, InnerLoopMode.Evaluation, dropout: false);
        for (int i = 0; i < r1.Losses.Count; i++) Assert.Equal(r1.Losses[i], r2.Losses[i], 12);
        for (int i = 0; i < r1.FastWeights.Count; i++)
            Assert.True((r1.FastWeights[i] - r2.FastWeights[i]).abs().max().ToDouble() < 1e-12);
        var g1 = MetaGrads(model, meta, one, q, InnerLoopMode.Full);
        var g2 = MetaGrads(model, meta, two, q, InnerLoopMode.Full);
        Assert.True(MaxDiff(g1, g2) <= 1e-10 * MaxAbs(g1));
    }

    [Fact]
    public void PackedAndSeparateSegmentsGiveEqualLosses()
    {
        using var scope = NewDisposeScope();
        var config = TinyModels.Gpt2Config();
        var model = TinyModels.Create(config);
        var meta = new MetaParameters(model, TinyModels.Settings(config), ScalarType.Float64, 3);
        GradientCheck.Perturb(meta, 3);
        var segs = PerkBatcher.Context(new[] { "a short one.", "a rather longer segment here.", "mid size text" }, Tok, 257, 128);
        using var sep = PerkBatcher.Separate(segs, Tok.PadId);
        using var packed = PerkBatcher.Packed(segs);
        var fast = meta.Lora.Initial.Cast<Tensor>().ToList();
        var ls = InnerLoop.InnerLoss(model, meta, fast, sep, 1, dropout: false).ToDouble();
        var lp = InnerLoop.InnerLoss(model, meta, fast, packed, 1, dropout: false).ToDouble();
        Assert.Equal(ls, lp, 12);
        // Whole inner trajectories agree too.
        using var rs = InnerLoop.Run(model, meta, new[] { sep }, InnerLoopMode.Evaluation, dropout: false);
        using var rp = InnerLoop.Run(model, meta, new[] { packed }, InnerLoopMode.Evaluation, dropout: false);
        for (int i = 0; i < rs.Losses.Count; i++) Assert.Equal(rs.Losses[i], rp.Losses[i], 12);
        // The official packed normalisation (total tokens − 1) is a different, documented scale.
        using var official = PerkBatcher.Packed(segs, PackedNormalization.PackedTokens);
        var lo = InnerLoop.InnerLoss(model, meta, fast, official, 1, dropout: false).ToDouble();
        Assert.Equal(ls * sep.Denominator / official.Denominator, lo, 12);
    }

    [Fact]
    public void TargetFilterAndTopKLayersSelectTheOfficialProjections()
    {
        using var scope = NewDisposeScope();
        var gpt2 = TinyModels.Create(TinyModels.Gpt2Config());
        var all = new LoraAdapter(gpt2.LoraTargets, gpt2.Config, new LoraOptions { Rank = 2 });
        Assert.Equal(2 * 4 * 2, all.Count);                             // 2 layers × (c_attn, attn c_proj, c_fc, mlp c_proj) × (A, B)
        var top = new LoraAdapter(gpt2.LoraTargets, gpt2.Config, new LoraOptions { Rank = 2, TopKLayers = 1 });
        Assert.All(top.Selected, i => Assert.Equal(1, gpt2.LoraTargets[i].Layer));
        Assert.StartsWith("base_model.model.transformer.h.", all.TensorNames[0]);
        Assert.EndsWith(".lora_A.weight", all.TensorNames[0]);
        var qwen = TinyModels.Create(TinyModels.Qwen2Config());
        var q = new LoraAdapter(qwen.LoraTargets, qwen.Config, new LoraOptions { Rank = 2 });
        Assert.Equal(2 * 7 * 2, q.Count);
        var a0 = q.Initial[0];
        double bound = 1.0 / Math.Sqrt(qwen.LoraTargets[q.Selected[0]].InFeatures);
        Assert.True(a0.abs().max().ToDouble() <= bound && a0.abs().max().ToDouble() > 0.5 * bound);
        Assert.Equal(0, q.Initial[1].count_nonzero().ToInt64());
        Assert.Equal(8.0, new LoraOptions { Rank = 16, Alpha = 32 }.Scale, 12);             // rsLoRA: α/√r
        Assert.Equal(2.0, new LoraOptions { Rank = 16, Alpha = 32, UseRsLora = false }.Scale, 12);
    }
}
