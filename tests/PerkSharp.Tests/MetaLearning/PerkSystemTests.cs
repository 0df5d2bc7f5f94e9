using PerkSharp.Data;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>Test-time API (encode once, ask many; memories on disk) and the outer meta-step.</summary>
public class PerkSystemTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-meta-" + Guid.NewGuid().ToString("N")[..8]);
    public PerkSystemTests() => TorchRuntime.Initialize(1);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static readonly CharTokenizer Tok = new();
    static readonly string[] Context = { "Mary moved to the bathroom.", "John went to the hallway.", "Sandra took the apple." };

    static PerkSystem MakeSystem(PerkSettings? settings = null, ScalarType dtype = ScalarType.Float32)
    {
        var config = TinyModels.Gpt2Config();
        var model = TinyModels.Create(config, dtype);
        var s = settings ?? TinyModels.Settings(config, x => x with { InnerSteps = 4, TestAccumulation = 2 });
        var meta = new MetaParameters(model, s, dtype, 21);
        GradientCheck.Perturb(meta, 21);
        return new PerkSystem(model, Tok, meta, "tiny-gpt2");
    }

    [Fact]
    public void TestTimeStepsLowerTheInnerLossOnTheEncodedContext()
    {
        var system = MakeSystem();
        using var memory = system.Encode(Context, accumulation: 1, dropout: false);
        Assert.Equal(4, memory.InnerLosses.Count);
        // Loss at φ^(N) (one extra evaluation) is below the loss at φ^(0).
        var seqs = PerkBatcher.Context(Context, Tok, 257, 128);
        using var batch = PerkBatcher.Separate(seqs, Tok.PadId);
        double before = InnerLoop.InnerLoss(system.Model, system.Meta, system.Meta.Lora.Initial.Cast<Tensor>().ToList(), batch, 1, false).ToDouble();
        double after = InnerLoop.InnerLoss(system.Model, system.Meta, memory.FastWeights, batch, 1, false).ToDouble();
        Assert.Equal(before, memory.InnerLosses[0], 5);
        Assert.True(after < before, $"inner loss {before} -> {after}");
        Assert.True(memory.InnerLosses[3] < memory.InnerLosses[0]);
        Assert.All(memory.FastWeights, t => Assert.True(t.is_leaf));
    }

    [Fact]
    public void SavedMemoryAnswersExactlyLikeTheInProcessOne()
    {
        var system = MakeSystem();
        using var memory = system.Encode(Context, dropout: false);
        var questions = new[] { "Where is Mary?", "Who took the apple?" };
        var answers = system.Answer(memory, questions, maxNewTokens: 12);
        Assert.Equal(answers[0], system.Answer(memory, questions[0], 12));
        string dir = Path.Combine(_dir, "memory");
        memory.Save(dir, system.BaseModelNameOrPath);
        var cfg = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!;
        Assert.Equal("LORA", (string?)cfg["peft_type"]);
        Assert.True((bool)cfg["fan_in_fan_out"]!);
        Assert.Equal(new[] { "c_attn", "c_fc", "c_proj" }, cfg["target_modules"]!.AsArray().Select(n => (string)n!));
        using var loaded = PerkMemory.Load(dir, system.Meta.Lora);
        Assert.Equal(3, loaded.NumDocuments);
        for (int i = 0; i < memory.FastWeights.Count; i++) Assert.True(memory.FastWeights[i].eq(loaded.FastWeights[i]).all().ToBoolean());
        Assert.Equal(answers, system.Answer(loaded, questions, 12));
        Assert.Equal(system.AnswerLoss(memory, questions[0], "bathroom"), system.AnswerLoss(loaded, questions[0], "bathroom"));
    }

    [Fact]
    public void LoadingAMemoryOfAnotherRankIsAUserError()
    {
        var system = MakeSystem();
        using var memory = system.Encode(Context, dropout: false);
        memory.Save(Path.Combine(_dir, "m"));
        var other = MakeSystem(TinyModels.Settings(TinyModels.Gpt2Config(), s => s with { Lora = s.Lora with { Rank = 2 } }));
        var e = Assert.Throws<PerkException>(() => PerkMemory.Load(Path.Combine(_dir, "m"), other.Meta.Lora));
        Assert.Contains("\"r\"", e.Message);
    }

    [Fact]
    public void MetaStepUpdatesEveryKindAndCheckpointRoundTrips()
    {
        var system = MakeSystem(dtype: ScalarType.Float32);
        var example = new PerkExample("x", Context, "Where is Mary?", "bathroom", new[] { Context[0] });
        using var learner = new MetaLearner(system.Model, system.Meta, totalSteps: 10, warmupSteps: 0);
        var before = system.Meta.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var (ctx, q) = system.TrainingTensors(example, new Random(1));
        var r = learner.Step(ctx, q);
        Assert.False(r.Skipped);
        Assert.True(double.IsFinite(r.OuterLoss) && r.GradNorm > 0);
        foreach (var kind in GradientCheck.Kinds)
        {
            var changed = system.Meta.named_parameters().Where(p => MetaParameters.KindOf(p.name) == kind)
                .Any(p => !p.parameter.eq(before[p.name]).all().ToBoolean());
            Assert.True(changed, $"{kind} was not updated");
        }
        string path = Path.Combine(_dir, "meta.safetensors");
        MetaCheckpoint.Save(system.Meta, path);
        var fresh = MakeSystem(dtype: ScalarType.Float32);
        MetaCheckpoint.Load(fresh.Meta, path);
        foreach (var (name, p) in fresh.Meta.named_parameters())
            Assert.True(p.eq(system.Meta.get_parameter(name)!).all().ToBoolean(), name);
        foreach (var b in ctx) b.Dispose(); q.Dispose();
    }

    [Fact]
    public void MetaParametersInAnotherDtypeThanTheModelAreAUserError()
    {
        var config = TinyModels.Gpt2Config();
        var model = TinyModels.Create(config, ScalarType.Float32);
        var e = Assert.Throws<PerkException>(() => new MetaParameters(model, TinyModels.Settings(config), ScalarType.Float64));
        Assert.Contains("Float32", e.Message);
    }

    [Fact]
    public void NonFiniteMetaStepIsSkippedAndCounted()
    {
        var system = MakeSystem(dtype: ScalarType.Float32);
        using (no_grad()) system.Meta.StepSizes.Rates[0].fill_(double.NaN);
        var example = new PerkExample("x", Context, "Where is Mary?", "bathroom");
        using var learner = new MetaLearner(system.Model, system.Meta, totalSteps: 10, warmupSteps: 0);
        var a0 = system.Meta.Lora.Initial[0].detach().clone();
        var (ctx, q) = system.TrainingTensors(example, null);
        var r = learner.Step(ctx, q);
        Assert.True(r.Skipped);
        Assert.Equal(1, learner.SkippedSteps);
        Assert.Equal(0, learner.UpdatesApplied);
        Assert.True(system.Meta.Lora.Initial[0].eq(a0).all().ToBoolean());
        Assert.Throws<PerkException>(() => MetaCheckpoint.Save(system.Meta, Path.Combine(_dir, "bad.safetensors")));
        foreach (var b in ctx) b.Dispose(); q.Dispose();
    }
}
