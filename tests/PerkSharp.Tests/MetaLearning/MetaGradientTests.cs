using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>
/// Acceptance: in every inner-loop mode the meta-gradients of the LoRA initialisation (A and B), the step sizes and
/// the weighting model agree with central finite differences in float64 to 1e-5 relative, and the weighting model's
/// gradient is exactly zero in first-order mode (it only acts through inner gradients, all detached there).
/// </summary>
[Collection(SerialCollection.Name)]
public class MetaGradientTests
{
    public MetaGradientTests() => TorchRuntime.Initialize(1);

    static List<KindCheck> Check(PerkSharp.Models.ModelConfig config, InnerLoopMode mode, long seed)
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Create(config);
        var meta = new MetaParameters(model, TinyModels.Settings(config), ScalarType.Float64, seed);
        GradientCheck.Perturb(meta, seed);
        var (ctx, q) = GradientCheckProblem.Tensors(new CharTokenizer(), config);
        try { return GradientCheck.Run(model, meta, ctx, q, mode, coordinatesPerKind: 4, seed: seed); }
        finally { foreach (var b in ctx) b.Dispose(); q.Dispose(); }
    }

    [Theory]
    [InlineData(InnerLoopMode.Full)]
    [InlineData(InnerLoopMode.Truncated)]
    [InlineData(InnerLoopMode.FirstOrder)]
    public void Gpt2MetaGradientsMatchFiniteDifferences(InnerLoopMode mode)
    {
        var report = Check(TinyModels.Gpt2Config(), mode, seed: 5);
        Assert.Equal(GradientCheck.Kinds, report.Select(k => k.Kind));
        foreach (var k in report)
        {
            Assert.True(k.MaxRelativeError <= 1e-5, $"{mode} {k.Kind}: relative error {k.MaxRelativeError:E2}");
            bool mustVanish = mode == InnerLoopMode.FirstOrder && k.Kind == "weighting_model";
            Assert.True(k.ExactlyZero == mustVanish, $"{mode} {k.Kind}: exactly zero = {k.ExactlyZero}");
        }
    }

    [Fact]
    public void Qwen2TruncatedMetaGradientsMatchFiniteDifferences()
    {
        var report = Check(TinyModels.Qwen2Config(), InnerLoopMode.Truncated, seed: 9);
        foreach (var k in report)
        {
            Assert.True(k.MaxRelativeError <= 1e-5, $"{k.Kind}: relative error {k.MaxRelativeError:E2}");
            Assert.False(k.ExactlyZero, k.Kind);
        }
    }
}
