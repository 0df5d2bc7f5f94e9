using System.Text.Json.Nodes;
using PerkSharp.Adapters;
using PerkSharp.Data;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Reliability;
using PerkSharp.Tests.Tokenization;
using PerkSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>
/// bf16-mixed PERK (bf16: true): the base stays bf16 and untouched; the meta-parameters, inner-loop fast weights, inner
/// gradients and differentiable AdamW state are fp32; second-order meta-gradients flow through the bf16 base and agree
/// with float64 within <see cref="MixedPrecisionCheck.Tolerance"/>; encode/answer, train, encode and ask work end to end.
/// </summary>
[Collection(SerialCollection.Name)]
public class MixedPrecisionTests : IDisposable
{
    readonly string _dir = TokenizerTestUtil.TempDir("mixed");
    public MixedPrecisionTests() => TorchRuntime.Initialize(1);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static readonly PerkExample Example = new("x", GradientCheckProblem.Segments, GradientCheckProblem.Question, GradientCheckProblem.Answer);

    public static IEnumerable<object[]> Archs => new[] { new object[] { "gpt2" }, new object[] { "qwen2" }, new object[] { "llama" } };

    static ModelConfig Config(string arch) => arch switch
    {
        "gpt2" => TinyModels.Gpt2Config(),
        "qwen2" => TinyModels.Qwen2Config(),
        _ => ModelConfig.FromJson(new JsonObject
        {
            ["model_type"] = "llama", ["vocab_size"] = 257, ["hidden_size"] = 32, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 1, ["intermediate_size"] = 40,
            ["max_position_embeddings"] = 128, ["eos_token_id"] = 256, ["tie_word_embeddings"] = false,
        }),
    };

    static void AllOf(IEnumerable<Tensor> ts, ScalarType dtype, string what) =>
        Assert.All(ts, t => Assert.True(t.dtype == dtype, $"{what}: {t.dtype}, expected {dtype}"));

    [Theory]
    [MemberData(nameof(Archs))]
    public void Bf16MixedMetaStepKeepsTheBaseBf16AndEverythingLearnedFp32(string arch)
    {
        var config = Config(arch);
        using var scope = NewDisposeScope();
        var model = TinyModels.Create(config, ScalarType.BFloat16);
        var baseBefore = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        // The official inner loop: AdamW (ε = 1e-8), LoRA dropout on, truncated unrolling.
        var s = TinyModels.Settings(config, x => x with { TrainDropout = true, Lora = x.Lora with { Dropout = 0.1 } });
        var meta = new MetaParameters(model, s, seed: 3);                 // default dtype: float32
        GradientCheck.Perturb(meta, 3);
        AllOf(meta.parameters(), ScalarType.Float32, "meta-parameter");
        var system = new PerkSystem(model, new CharTokenizer(), meta);
        var (ctx, q) = system.TrainingTensors(Example, new Random(1));
        try
        {
            using (var inner = NewDisposeScope())
            {
                using var r = InnerLoop.Run(model, meta, ctx, InnerLoopMode.Truncated, dropout: true);
                AllOf(r.FastWeights, ScalarType.Float32, "fast weight");
                Assert.All(r.FastWeights, t => Assert.True(t.requires_grad && !t.is_leaf));   // graph-carrying
                Assert.All(r.Losses, l => Assert.True(double.IsFinite(l)));
                var outer = InnerLoop.AnswerLoss(model, meta, r.FastWeights, q, dropout: true);
                Assert.Equal(ScalarType.Float32, outer.dtype);

                // One inner step by hand: gradients through the bf16 base are fp32, and so is the AdamW state.
                var fast = meta.Lora.Initial.Cast<Tensor>().ToList();
                var loss = InnerLoop.InnerLoss(model, meta, fast, ctx[0], ctx.Count, dropout: false);
                Assert.Equal(ScalarType.Float32, loss.dtype);
                var grads = torch.autograd.grad(new[] { loss }, fast, retain_graph: true, create_graph: true).ToList();
                AllOf(grads, ScalarType.Float32, "inner gradient");
                using var adam = new DifferentiableAdamW();
                AllOf(adam.Step(grads, fast, meta.StepSizes.At(0, meta.DType)), ScalarType.Float32, "updated fast weight");
                AllOf(adam.State, ScalarType.Float32, "AdamW state");
                Assert.Equal(2 * fast.Count, adam.State.Count());
            }

            var before = meta.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
            using var learner = new MetaLearner(model, meta, totalSteps: 4, warmupSteps: 0);
            var step = learner.Step(ctx, q);
            Assert.False(step.Skipped);
            Assert.True(double.IsFinite(step.OuterLoss) && step.GradNorm > 0, $"outer {step.OuterLoss}, grad norm {step.GradNorm}");
            AllOf(meta.parameters(), ScalarType.Float32, "meta-parameter after the update");
            foreach (var kind in GradientCheck.Kinds)
                Assert.True(meta.named_parameters().Where(p => MetaParameters.KindOf(p.name) == kind)
                    .Any(p => !p.parameter.eq(before[p.name]).all().ToBoolean()), $"{kind} was not updated");
            foreach (var (name, t) in model.state_dict())
            {
                Assert.Equal(ScalarType.BFloat16, t.dtype);
                Assert.False(t.requires_grad, name);
                Assert.True(t.eq(baseBefore[name]).all().ToBoolean(), $"base weight {name} changed");
            }
        }
        finally { foreach (var b in ctx) b.Dispose(); q.Dispose(); }
    }

    [Theory]
    [InlineData("gpt2", InnerLoopMode.Full)]
    [InlineData("gpt2", InnerLoopMode.Truncated)]
    [InlineData("gpt2", InnerLoopMode.FirstOrder)]
    [InlineData("qwen2", InnerLoopMode.Full)]
    [InlineData("qwen2", InnerLoopMode.Truncated)]
    [InlineData("qwen2", InnerLoopMode.FirstOrder)]
    [InlineData("llama", InnerLoopMode.Truncated)]
    public void Bf16MixedMetaGradientAgreesWithFloat64(string arch, InnerLoopMode mode)
    {
        var config = Config(arch);
        using var scope = NewDisposeScope();
        var model = TinyModels.Create(config, ScalarType.BFloat16);
        var (ctx, q) = GradientCheckProblem.Tensors(new CharTokenizer(), config);
        try { AssertAgrees(MixedPrecisionCheck.Run(model, MixedPrecisionCheck.Settings(config), 5, ctx, q, mode), mode, $"{arch} {mode}"); }
        finally { foreach (var b in ctx) b.Dispose(); q.Dispose(); }
    }

    [Fact]
    public void Bf16MixedBatchedMetaGradientAgreesWithFloat64()
    {
        // Two examples with their own fast weights: the 3-D LoRA path A [E, r, in] under bf16-mixed.
        var config = TinyModels.Qwen2Config();
        using var scope = NewDisposeScope();
        var model = TinyModels.Create(config, ScalarType.BFloat16);
        var tok = new CharTokenizer();
        var exs = new[] { Example, new PerkExample("y", new[] { "Daniel went to the office.", "Sandra moved to the garden." }, "Where is Sandra?", "garden") };
        var seqs = exs.Select(e => (IReadOnlyList<TokenizedSequence>)PerkBatcher.Context(e.Context, tok, 257, 128)).ToList();
        var ctx = PerkBatcher.BatchedMicroBatches(seqs, 1, false, tok.PadId, PackedNormalization.AsSeparate);
        var q = PerkBatcher.BatchedQuestions(exs.Select(e => PerkBatcher.Question(e.Context.Count, e.Question, e.Answer, null, tok, 257, 128)).ToList(), tok.PadId);
        try { AssertAgrees(MixedPrecisionCheck.Run(model, MixedPrecisionCheck.Settings(config), 6, ctx, q, InnerLoopMode.Truncated), InnerLoopMode.Truncated, "batched"); }
        finally { foreach (var b in ctx) b.Dispose(); q.Dispose(); }
    }

    static void AssertAgrees(List<MixedKindCheck> report, InnerLoopMode mode, string what)
    {
        Assert.Equal(GradientCheck.Kinds, report.Select(k => k.Kind));
        foreach (var k in report)
        {
            bool mustVanish = mode == InnerLoopMode.FirstOrder && k.Kind == "weighting_model";
            Assert.True(k.ExactlyZero == mustVanish, $"{what} {k.Kind}: exactly zero = {k.ExactlyZero}");
            Assert.True(k.RelativeError <= MixedPrecisionCheck.Tolerance, $"{what} {k.Kind}: relative error {k.RelativeError:E2} (cosine {k.Cosine:F5})");
            Assert.True(k.Cosine >= 0.99, $"{what} {k.Kind}: cosine {k.Cosine:F5}");
        }
    }

    [Fact]
    public void EqualDtypesCrossNoBoundary()
    {
        // fp32 base + fp32 adapter (bf16: false): the same ops as before, bit for bit.
        using var scope = NewDisposeScope();
        var x = randn(3, 5);
        var u = randn(3, 5);
        Assert.True(MixedPrecision.AddUpdate(x, u, 0.5).eq(x.add(u, 0.5)).all().ToBoolean());
        Assert.True(MixedPrecision.ToAdapter(x, ScalarType.Float32).eq(x).all().ToBoolean());
        Assert.Equal(ScalarType.Float32, MixedPrecision.LossLogits(x).dtype);
        var xb = x.to(ScalarType.BFloat16);
        var y = MixedPrecision.AddUpdate(xb, u, 0.5);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        Assert.True(y.eq(xb.to(ScalarType.Float32).add(u, 0.5).to(ScalarType.BFloat16)).all().ToBoolean());  // one rounding, PEFT
        Assert.Equal(ScalarType.Float32, MixedPrecision.LossLogits(xb).dtype);
    }

    [Fact]
    public void OnlyFloat32MetaParametersRunOnABf16Base()
    {
        var config = TinyModels.Gpt2Config();
        using var model = TinyModels.Create(config, ScalarType.BFloat16);
        var e = Assert.Throws<PerkException>(() => new MetaParameters(model, TinyModels.Settings(config), ScalarType.Float64));
        Assert.Contains("BFloat16", e.Message);
        Assert.Throws<PerkException>(() => new MetaParameters(model, TinyModels.Settings(config), ScalarType.BFloat16));
    }

    [Fact]
    public void Bf16MixedEncodeAnswerAndMemoryRoundTrip()
    {
        var config = TinyModels.Gpt2Config();
        using var scope = NewDisposeScope();
        var model = TinyModels.Create(config, ScalarType.BFloat16);
        var meta = new MetaParameters(model, TinyModels.Settings(config, s => s with { InnerSteps = 3, TestAccumulation = 2 }), seed: 4);
        GradientCheck.Perturb(meta, 4);
        var system = new PerkSystem(model, new CharTokenizer(), meta);
        using var memory = system.Encode(GradientCheckProblem.Segments, dropout: false);
        AllOf(memory.FastWeights, ScalarType.Float32, "memory");
        Assert.True(memory.InnerLosses[^1] < memory.InnerLosses[0], string.Join(" ", memory.InnerLosses));
        string answer = system.Answer(memory, GradientCheckProblem.Question, maxNewTokens: 6);
        Assert.True(double.IsFinite(system.AnswerLoss(memory, GradientCheckProblem.Question, GradientCheckProblem.Answer)));
        string dir = Path.Combine(_dir, "mem");
        memory.Save(dir);
        Assert.All(Safetensors.ReadHeader(Path.Combine(dir, PerkMemory.WeightsFile)).Tensors, t => Assert.Equal("F32", t.DType));
        using var loaded = PerkMemory.Load(dir, meta.Lora);
        Assert.Equal(answer, system.Answer(loaded, GradientCheckProblem.Question, maxNewTokens: 6));
        // Batched encode/decode (per-example 3-D fast weights) under no_grad.
        var both = system.EncodeBatch(new[] { GradientCheckProblem.Segments, new[] { "Daniel went to the office." } }, dropout: false);
        AllOf(both.SelectMany(m => m.FastWeights), ScalarType.Float32, "batched memory");
        Assert.Equal(2, system.AnswerBatch(both, new[] { "Where is Mary?", "Where is Daniel?" }, maxNewTokens: 4).Count);
        foreach (var m in both) m.Dispose();
    }

    [Fact]
    public void CheckGradientsBf16MixedPassesOnAGpt2Folder()
    {
        string dir = Path.Combine(_dir, "gpt2");
        TokenizerTestUtil.WriteByteLevel257(_dir);
        var config = TinyModels.Gpt2Config();
        using (var model = TinyModels.Create(config, ScalarType.Float32)) HfCheckpoint.Save(dir, model, TokenizerLoader.Load(_dir, config));
        var r = CliRunner.Run("check-gradients", "--model", dir, "--dtype", "bf16-mixed", "--mode", "truncated", "--json", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var o = JsonNode.Parse(r.Stdout.Trim().Split('\n')[^1])!;
        Assert.True((bool)o["passed"]!);
        Assert.Equal("bf16-mixed", (string)o["dtype"]!);
        Assert.Equal(MixedPrecisionCheck.Tolerance, (double)o["tolerance"]!);
        foreach (var kind in GradientCheck.Kinds)
            Assert.True((double)o["kinds"]![kind]!["relative_error"]! <= MixedPrecisionCheck.Tolerance, kind);
        var bad = CliRunner.Run("check-gradients", "--model", dir, "--dtype", "float16");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--dtype", bad.Stderr);
    }

    [Fact]
    public void Bf16TrainEncodeAndAskRunOnAQwen2Folder()
    {
        BadInputFixtures.RealModel(Path.Combine(_dir, "model"), BadInputFixtures.Qwen2Config());
        KillResumeTests.WriteData(Path.Combine(_dir, "data", "babilong", "qa1_1k", "train.jsonl"));
        string yaml = BadInputFixtures.Yaml(_dir, KillResumeTests.Yaml(_dir, "run", steps: 2));
        var t = CliRunner.Run("train", "--config", yaml, "bf16=true", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Stdout + t.Stderr);
        string metaFile = Path.Combine(_dir, "run", "checkpoints", "last", "perk_meta.safetensors");
        Assert.All(Safetensors.ReadHeader(metaFile).Tensors, x => Assert.Equal("F32", x.DType));
        File.WriteAllText(Path.Combine(_dir, "doc.txt"), "Mary went to the kitchen. John moved to the garden.\n");
        var e = CliRunner.Run("encode", "--checkpoint", Path.Combine(_dir, "run"), "--document", Path.Combine(_dir, "doc.txt"),
            "--out", Path.Combine(_dir, "mem"), "--threads", "1");
        Assert.True(e.ExitCode == 0, e.Stdout + e.Stderr);
        var a = CliRunner.Run("ask", "Where is Mary?", "--checkpoint", Path.Combine(_dir, "run"), "--memory", Path.Combine(_dir, "mem"),
            "--max-new-tokens", "4", "--threads", "1");
        Assert.True(a.ExitCode == 0, a.Stdout + a.Stderr);
        Assert.Contains("Where is Mary?", a.Stdout);
    }
}
