using PerkSharp.Adapters;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tests.Models;
using PerkSharp.Training;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Reliability;

/// <summary>
/// NaN injection: a poisoned token — its embedding row set to NaN in the frozen base model — makes
/// the inner loss (token in the context) or the outer loss (token in the question) non-finite. The meta-step must be
/// skipped and counted, leave every meta-parameter untouched, and training must go on with the next clean example.
/// A checkpoint is never written with NaN/Inf, and refusing one leaves the previous checkpoint loadable.
/// </summary>
public class NonFiniteStepTests
{
    const int Poison = 59;

    public NonFiniteStepTests() => TorchRuntime.Initialize(1);

    /// <summary>Llama (untied lm_head, so the NaN row reaches only sequences that contain the token).</summary>
    static CausalLM PoisonedLlama()
    {
        var model = TinyModels.Create("llama", layers: 1, seed: 3);
        var wte = model.named_parameters().Single(p => p.name.EndsWith("embed_tokens.weight")).parameter;
        using (no_grad()) wte[Poison].fill_(double.NaN);
        return model;
    }

    static MetaParameters Meta(CausalLM model) => new(model, new PerkSettings
    {
        Lora = new LoraOptions { Rank = 2, Alpha = 4, Dropout = 0 },
        InnerSteps = 2, UnrollStart = 1, InnerLr = 1e-2, OuterLr = 1e-2, TrainDropout = false,
    }, seed: 5);

    /// <summary>Context segments and a question (prompt 3 tokens, answer 2 tokens), all ids below the poison.</summary>
    static (List<TokenBatch> Context, TokenBatch Question) Example(int seed, bool poisonContext = false, bool poisonQuestion = false)
    {
        var rng = new Random(seed);
        int[] Ids(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(0, Poison - 1)).ToArray();
        var seg1 = Ids(7); var seg2 = Ids(6); var q = Ids(5);
        if (poisonContext) seg2[3] = Poison;
        if (poisonQuestion) q[1] = Poison;
        var ctx = new List<TokenBatch> { PerkBatcher.Separate(new[] { new TokenizedSequence(seg1, 0), new TokenizedSequence(seg2, 0) }, 60) };
        return (ctx, PerkBatcher.Separate(new[] { new TokenizedSequence(q, 3) }, 60));
    }

    static Dictionary<string, Tensor> Snapshot(MetaParameters meta) =>
        meta.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    static bool AllFinite(MetaParameters meta) => meta.parameters().All(p => p.isfinite().all().item<bool>());

    static bool Equal(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) => a.All(kv => TinyModels.Same(kv.Value, b[kv.Key]));

    [Fact]
    public void PoisonedInnerOrOuterLossSkipsTheStepCountsItAndTrainingGoesOn()
    {
        using var scope = NewDisposeScope();
        using var model = PoisonedLlama();
        using var meta = Meta(model);
        using var learner = new MetaLearner(model, meta, totalSteps: 5, warmupSteps: 0);
        var plan = new[] { (false, false), (true, false), (false, false), (false, true), (false, false) };
        var results = new List<MetaStepResult>();
        for (int i = 0; i < plan.Length; i++)
        {
            var before = Snapshot(meta);
            var (ctx, q) = Example(100 + i, plan[i].Item1, plan[i].Item2);
            var r = learner.Step(ctx, q);
            results.Add(r);
            foreach (var b in ctx) b.Dispose();
            q.Dispose();
            bool poisoned = plan[i].Item1 || plan[i].Item2;
            Assert.Equal(poisoned, r.Skipped);
            Assert.True(AllFinite(meta), $"step {i}: a meta-parameter became non-finite");
            // A skipped step changes nothing; a clean step updates the meta-parameters (training goes on).
            Assert.Equal(poisoned, Equal(before, Snapshot(meta)));
        }
        Assert.True(double.IsNaN(results[1].OuterLoss));                                           // inner poison: outer never reached
        Assert.False(double.IsFinite(results[3].OuterLoss));                                       // outer poison
        Assert.True(results[3].InnerLosses.All(double.IsFinite));                                  // ... with a clean inner loop
        Assert.Equal(0, results[1].LearningRate);
        Assert.Equal(2, learner.SkippedSteps);
        Assert.Equal(3, learner.UpdatesApplied);
        Assert.True(double.IsFinite(results[4].OuterLoss) && results[4].GradNorm > 0);
    }

    [Fact]
    public void ACheckpointIsNeverWrittenWithNaNAndThePreviousOneStaysLoadable()
    {
        using var scope = NewDisposeScope();
        string run = Path.Combine(Path.GetTempPath(), "perk-nan-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using var model = TinyModels.Create("gpt2", layers: 1, seed: 3);
            using var meta = Meta(model);
            var ckpt = new CheckpointManager(run, topK: 2);
            IEnumerable<(string, Tensor)> Tensors() => meta.named_parameters().Select(p => (p.name, (Tensor)p.parameter));
            void Payload(string dir) => Safetensors.Save(Path.Combine(dir, "perk_meta.safetensors"),
                meta.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));

            ckpt.Save(new TrainerState { GlobalStep = 1 }, 2.0, Tensors(), Payload);
            var saved = Snapshot(meta);
            foreach (var (name, value) in new[] { ("lora.B0", double.NaN), ("lslr.lr0", double.PositiveInfinity) })
            {
                var p = meta.named_parameters().Single(x => x.name == name).parameter;
                using (no_grad()) { var old = p.detach().clone(); p.view(-1)[0].fill_(value);
                    var e = Assert.Throws<NonFiniteException>(() => ckpt.Save(new TrainerState { GlobalStep = 2 }, 1.0, Tensors(), Payload));
                    Assert.Contains(name, e.Message);
                    p.copy_(old); }
            }
            // Only the step-1 checkpoint exists, whole, and every tensor in it is finite and equal to what was saved.
            Assert.Equal(1, CheckpointManager.ReadState(ckpt.LastDir).GlobalStep);
            Assert.Equal(new[] { "last", "step-000001" }, Directory.GetDirectories(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order().ToArray());
            var loaded = Safetensors.Load(Path.Combine(ckpt.LastDir, "perk_meta.safetensors"));
            Assert.Equal(saved.Keys.Order(), loaded.Keys.Order());
            foreach (var (k, t) in loaded)
            {
                Assert.True(t.isfinite().all().item<bool>(), k);
                Assert.True(TinyModels.Same(t, saved[k]), k);
            }
        }
        finally { if (Directory.Exists(run)) Directory.Delete(run, true); }
    }
}
