using PerkSharp.Data;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>
/// Batched meta-steps (train_batch_size B): B examples with their own fast weights in one batched computation must
/// give exactly the mean of the B single-example meta-gradients (float64, 1e-6 relative), with examples of different
/// segment counts and lengths padded and masked; batched encoding and decoding must equal one-by-one results.
/// </summary>
[Collection(SerialCollection.Name)]
public class BatchedMetaStepTests
{
    public BatchedMetaStepTests() => TorchRuntime.Initialize(1);

    static readonly PerkExample[] Examples =
    {
        new("a", new[] { "Mary moved to the bathroom.", "John went to the hallway." }, "Where is Mary?", "bathroom", new[] { "Mary moved to the bathroom." }),
        new("b", new[] { "Sandra took the apple there.", "Daniel journeyed to the office.", "Sandra went to the garden now." }, "Where is Sandra?", "garden", null),
        new("c", new[] { "John travelled to the kitchen.", "Mary went back to the bedroom.", "Daniel moved to the hallway.", "John went to the office." }, "Where is John?", "office", null),
    };

    static Dictionary<string, Tensor> MetaGradients(CausalLM model, MetaParameters meta, PerkSystem system, IReadOnlyList<PerkExample> exs, InnerLoopMode mode)
    {
        foreach (var p in meta.parameters()) p.grad?.zero_();
        var (ctx, q) = system.TrainingTensors(exs, exs.Select(_ => (Random?)null).ToList());
        try
        {
            using var scope = NewDisposeScope();
            using var r = InnerLoop.Run(model, meta, ctx, mode, dropout: false);
            InnerLoop.AnswerLoss(model, meta, r.FastWeights, q, dropout: false).backward();
        }
        finally { foreach (var b in ctx) b.Dispose(); q.Dispose(); }
        var grads = meta.named_parameters().ToDictionary(x => x.name, x => x.parameter.grad!.detach().clone());
        foreach (var p in meta.parameters()) p.grad?.zero_();
        return grads;
    }

    static double RelativeError(Tensor a, Tensor b) =>
        (a - b).abs().max().ToDouble() / Math.Max(1e-12, b.abs().max().ToDouble());

    [Theory]
    [InlineData("gpt2", InnerLoopMode.Truncated, false)]
    [InlineData("gpt2", InnerLoopMode.Full, false)]
    [InlineData("qwen2", InnerLoopMode.Truncated, true)]
    public void Batched_meta_gradient_is_the_mean_of_single_example_meta_gradients(string arch, InnerLoopMode mode, bool packed)
    {
        var config = arch == "gpt2" ? TinyModels.Gpt2Config() : TinyModels.Qwen2Config();
        using var scope = NewDisposeScope();
        var model = TinyModels.Create(config);
        var meta = new MetaParameters(model, TinyModels.Settings(config, s => s with { Packing = packed }), ScalarType.Float64, seed: 3);
        GradientCheck.Perturb(meta, 3);                      // B ≠ 0, weighting output ≠ 0: every path carries gradient
        var system = new PerkSystem(model, new CharTokenizer(), meta);

        var batched = MetaGradients(model, meta, system, Examples, mode);
        var singles = Examples.Select(e => MetaGradients(model, meta, system, new[] { e }, mode)).ToList();
        foreach (var (name, g) in batched)
        {
            var mean = singles.Select(s => s[name]).Aggregate((x, y) => x + y) / singles.Count;
            Assert.True(mean.abs().max().ToDouble() > 0, $"{name}: zero meta-gradient, the test would prove nothing");
            double err = RelativeError(g, mean);
            Assert.True(err <= 1e-6, $"{arch} {mode} {name}: batched vs mean of singles relative error {err:E2}");
        }
    }

    [Fact]
    public void Batched_encoding_and_answers_equal_one_by_one_with_uneven_micro_batches()
    {
        var config = TinyModels.Gpt2Config();
        using var scope = NewDisposeScope();
        var model = TinyModels.Create(config);
        var meta = new MetaParameters(model, TinyModels.Settings(config), ScalarType.Float64, seed: 4);
        GradientCheck.Perturb(meta, 4);
        var system = new PerkSystem(model, new CharTokenizer(), meta);
        var contexts = Examples.Select(e => (IReadOnlyList<string>)e.Context).ToList();

        // Accumulation 2: example a has 2 chunks of 1 segment, c 2 chunks of 2, b 2 chunks (2 + 1).
        var together = system.EncodeBatch(contexts, accumulation: 2, dropout: false);
        var alone = contexts.Select(c => system.Encode(c, accumulation: 2, dropout: false)).ToList();
        for (int e = 0; e < contexts.Count; e++)
            for (int j = 0; j < alone[e].FastWeights.Count; j++)
            {
                double err = RelativeError(together[e].FastWeights[j], alone[e].FastWeights[j]);
                Assert.True(err <= 1e-9, $"example {e} tensor {j}: batched vs alone relative error {err:E2}");
            }

        var questions = Examples.Select(e => e.Question).ToList();
        var batchedAnswers = system.AnswerBatch(together, questions, maxNewTokens: 12);
        var singleAnswers = alone.Select((m, i) => system.Answer(m, questions[i], maxNewTokens: 12)).ToList();
        Assert.Equal(singleAnswers, batchedAnswers);
        var losses = system.AnswerLossBatch(together, Examples);
        for (int i = 0; i < Examples.Length; i++)
            Assert.Equal(system.AnswerLoss(alone[i], Examples[i].Question, Examples[i].Answer, Examples[i].Support), losses[i], 9);
    }
}
