using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>The model-free pieces: token weighting, the weighted loss formula, LSLR, batching, the outer schedule.</summary>
public class MetaComponentTests
{
    public MetaComponentTests() => TorchRuntime.Initialize(1);

    [Fact]
    public void WeightingModelStartsAtSoftplusBeta3OfZeroAndMasksPads()
    {
        using var scope = NewDisposeScope();
        var wm = new WeightingModel(8, dtype: ScalarType.Float64);
        var h = randn(new long[] { 2, 5, 8 }, ScalarType.Float64);
        var mask = tensor(new long[] { 1, 1, 1, 0, 0, 1, 1, 1, 1, 1 }, new long[] { 2, 5 });
        var w = wm.forward(h, mask);
        Assert.Equal(Math.Log(2) / 3, w[0, 0].ToDouble(), 12);          // ≈ 0.2310
        Assert.Equal(0.0, w[0, 4].ToDouble());
        var names = wm.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Equal(new HashSet<string> { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }, names);
        Assert.Equal(0, wm.named_parameters().Where(p => p.name.StartsWith("fc2")).Sum(p => p.parameter.count_nonzero().ToInt64()));
    }

    [Fact]
    public void NormalisedWeightsSumToTheTokenCountOfEachRow()
    {
        using var scope = NewDisposeScope();
        var wm = new WeightingModel(8, WeightNonlinearity.Sigmoid, normalize: true, dtype: ScalarType.Float64);
        var mask = tensor(new long[] { 1, 1, 1, 0, 0, 1, 1, 1, 1, 1 }, new long[] { 2, 5 });
        var w = wm.forward(randn(new long[] { 2, 5, 8 }, ScalarType.Float64), mask);
        Assert.Equal(3.0, w[0].sum().ToDouble(), 10);
        Assert.Equal(5.0, w[1].sum().ToDouble(), 10);
    }

    [Fact]
    public void WeightedLossUsesShiftedWeightsAndCountsEveryPositionInTheDenominator()
    {
        using var scope = NewDisposeScope();
        var logits = randn(new long[] { 2, 4, 6 }, ScalarType.Float64);
        var labels = tensor(new long[] { -100, 2, 3, -100, -100, 5, -100, -100 }, new long[] { 2, 4 });
        var weights = rand(new long[] { 2, 4 }, ScalarType.Float64);
        var loss = Losses.WeightedTokenLoss(logits, labels, weights, denominator: 2 * 3, microBatches: 2).ToDouble();
        double expected = 0;
        var lp = nn.functional.log_softmax(logits, -1);
        foreach (var (b, t) in new[] { (0, 1), (0, 2), (1, 1) })   // label position t is predicted at t−1, weighted by w[t]
            expected -= lp[b, t - 1, labels[b, t].ToInt64()].ToDouble() * weights[b, t].ToDouble();
        Assert.Equal(expected / 6 / 2, loss, 12);
        // The answer loss is a plain mean over labelled tokens.
        double mean = 0;
        foreach (var (b, t) in new[] { (0, 1), (0, 2), (1, 1) }) mean -= lp[b, t - 1, labels[b, t].ToInt64()].ToDouble();
        Assert.Equal(mean / 3, Losses.AnswerLoss(logits, labels).ToDouble(), 12);
    }

    [Fact]
    public void StepSizesAreOneLearnableVectorPerTensorOrAFixedConstant()
    {
        using var scope = NewDisposeScope();
        var learned = new LearnedStepSizes(tensors: 3, innerSteps: 4, innerLr: 5e-5);
        Assert.Equal(3, learned.Rates.Count);
        Assert.All(learned.Rates, r => Assert.Equal(new long[] { 4 }, r.shape));
        var at2 = learned.At(2, ScalarType.Float32);
        Assert.True(at2[0].requires_grad);
        Assert.Equal(5e-5, at2[1].ToDouble(), 9);
        var fixedRate = new LearnedStepSizes(3, 4, 1e-3, learned: false);
        Assert.Empty(fixedRate.parameters());
        Assert.False(fixedRate.At(0, ScalarType.Float32)[0].requires_grad);
    }

    [Fact]
    public void SegmentsAreMaskedOnTheirDocPromptAndPositionsRestart()
    {
        var tok = new CharTokenizer();
        var segs = PerkBatcher.Context(new[] { "ab", "cde" }, tok, tok.VocabSize, 64);
        Assert.Equal("doc_0:".Length, segs[0].PromptLength);
        Assert.Equal(tok.Encode("doc_1: cde").Append(256), segs[1].Ids);
        using var sep = PerkBatcher.Separate(segs, tok.PadId);
        Assert.Equal(new long[] { 2, 11 }, sep.InputIds.shape);
        Assert.Equal(2 * 10, sep.Denominator);
        Assert.Null(sep.AttentionMask);
        // Row 0: prompt (6) masked, " ab" + eos labelled, one pad masked.
        var l0 = sep.Labels[0].data<long>().ToArray();
        Assert.Equal(Enumerable.Repeat(-100L, 6).Concat(new long[] { ' ', 'a', 'b', 256, -100 }).ToArray(), l0);
        using var packed = PerkBatcher.Packed(segs);
        Assert.Equal(new long[] { 1, 21 }, packed.InputIds.shape);
        var pos = packed.PositionIds[0].data<long>().ToArray();
        Assert.Equal(9, pos[9]);
        Assert.Equal(0, pos[10]);                                        // segment 2 restarts at position 0
        Assert.Equal(new long[] { 1, 2 }, packed.AttentionMask![0].data<long>().Distinct().ToArray());
        Assert.Equal(sep.Denominator, packed.Denominator);             // AsSeparate normalisation
        // The same labelled tokens in both layouts.
        Assert.Equal(sep.Labels.ne(-100).sum().ToInt64(), packed.Labels.ne(-100).sum().ToInt64());
    }

    [Fact]
    public void TrainingPermutesDocIdsAndTestKeepsThemSequential()
    {
        var tok = new CharTokenizer();
        var texts = Enumerable.Range(0, 8).Select(i => $"fact {i}").ToArray();
        var test = PerkBatcher.Context(texts, tok, tok.VocabSize, 64);
        Assert.All(test.Select((s, i) => (s, i)), x => Assert.StartsWith($"doc_{x.i}:", tok.Decode(x.s.Ids)));
        var train = PerkBatcher.Context(texts, tok, tok.VocabSize, 64, new Random(3));
        var ids = train.Select(s => tok.Decode(s.Ids).Split(':')[0]).ToList();
        Assert.Equal(texts.Length, ids.Distinct().Count());
        Assert.NotEqual(test.Select(s => tok.Decode(s.Ids).Split(':')[0]), ids);
        Assert.All(train.Select((s, i) => (s, i)), x => Assert.Contains($" fact {x.i}", tok.Decode(x.s.Ids)));  // facts keep their order
    }

    [Fact]
    public void MicroBatchesFollowTorchChunk()
    {
        var tok = new CharTokenizer();
        var segs = PerkBatcher.Context(Enumerable.Range(0, 5).Select(i => "x").ToArray(), tok, tok.VocabSize, 64);
        var mbs = PerkBatcher.MicroBatches(segs, 4, packed: false, tok.PadId);
        Assert.Equal(new[] { 2, 2, 1 }, mbs.Select(m => m.Sequences));
        foreach (var m in mbs) m.Dispose();
    }

    [Fact]
    public void TooLongSegmentsAndForeignIdsAreUserErrors()
    {
        var tok = new CharTokenizer();
        var e1 = Assert.Throws<PerkException>(() => PerkBatcher.Context(new[] { new string('a', 100) }, tok, tok.VocabSize, 32));
        Assert.Contains("context segment 0", e1.Message);
        var e2 = Assert.Throws<PerkException>(() => PerkBatcher.Context(new[] { "é" }, tok, 100, 32));
        Assert.Contains("outside the model's vocabulary", e2.Message);
        Assert.Throws<PerkException>(() => PerkBatcher.Context(Array.Empty<string>(), tok, tok.VocabSize, 32));
    }

    [Fact]
    public void CosineScheduleWithWarmupMatchesHuggingFace()
    {
        Assert.Equal(0.0, MetaLearner.ScheduleFactor(0, 10, 110));
        Assert.Equal(0.5, MetaLearner.ScheduleFactor(5, 10, 110), 12);
        Assert.Equal(1.0, MetaLearner.ScheduleFactor(10, 10, 110), 12);
        Assert.Equal(0.5, MetaLearner.ScheduleFactor(60, 10, 110), 12);
        Assert.Equal(0.0, MetaLearner.ScheduleFactor(110, 10, 110), 12);
        Assert.Equal(3, MetaLearner.WarmupSteps(100));
    }
}
