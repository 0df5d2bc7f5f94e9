using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>
/// higher's parity test: the functional optimizers with a fixed learning rate follow TorchSharp's own optimizers
/// step for step; plus the v = 0 case of AdamW stays finite under double backward.
/// </summary>
public class DifferentiableOptimizerTests
{
    public DifferentiableOptimizerTests() => TorchRuntime.Initialize(1);

    // A smooth non-quadratic objective with a different gradient scale per coordinate.
    static Tensor Objective(Tensor p, Tensor target) => ((p - target).pow(2) * (p.sin() + 2)).sum();

    static void Parity(Func<IEnumerable<Tensor>, optim.Optimizer> reference, Func<IDifferentiableOptimizer> functional, double lr)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(7);
        var init = randn(new long[] { 6, 4 }, ScalarType.Float64, generator: gen);
        var target = randn(new long[] { 6, 4 }, ScalarType.Float64, generator: gen);
        var p = new TorchSharp.Modules.Parameter(init.clone(), requires_grad: true);
        var opt = reference(new[] { p });
        using var mine = functional();
        Tensor q = init.clone().requires_grad_(true);
        var lrT = tensor(lr, ScalarType.Float64);
        for (int step = 0; step < 10; step++)
        {
            opt.zero_grad();
            Objective(p, target).backward();
            opt.step();

            var g = torch.autograd.grad(new[] { Objective(q, target) }, new[] { q })[0];
            q = mine.Step(new[] { g }, new[] { q }, new[] { lrT })[0].detach().requires_grad_(true);

            double diff = (p.detach() - q.detach()).abs().max().ToDouble();
            Assert.True(diff < 1e-12, $"step {step + 1}: max |torch - functional| = {diff}");
        }
        Assert.Equal(10, mine.StepCount);
        // The trajectory really moved (a no-op optimizer would fail the comparison only if the reference moved).
        Assert.True((q.detach() - init).abs().max().ToDouble() > 1e-3);
    }

    [Fact]
    public void AdamWFollowsTorchAdamWOverTenSteps() =>
        Parity(ps => optim.AdamW(ps.Select(t => (TorchSharp.Modules.Parameter)t), 0.05, 0.9, 0.95, 1e-8, 0.01),
               () => new DifferentiableAdamW(0.9, 0.95, 1e-8, 0.01), 0.05);

    [Fact]
    public void SgdFollowsTorchSgdOverTenSteps() =>
        Parity(ps => optim.SGD(ps.Select(t => (TorchSharp.Modules.Parameter)t), 0.02),
               () => new DifferentiableSgd(), 0.02);

    [Fact]
    public void AdamWUpdateIsDifferentiableInLearningRateAndFiniteWhereVIsZero()
    {
        using var scope = NewDisposeScope();
        // Gradient exactly zero on half the entries (as LoRA A when B = 0): v = 0 there.
        var x = tensor(new double[] { 0.3, -0.2, 0.5, 0.1 }, ScalarType.Float64).requires_grad_(true);
        var mask = tensor(new double[] { 1, 0, 1, 0 }, ScalarType.Float64);
        var lr = tensor(0.1, ScalarType.Float64).requires_grad_(true);
        using var opt = new DifferentiableAdamW();
        var inner = (x * x * mask).sum();
        var g = torch.autograd.grad(new[] { inner }, new[] { x }, retain_graph: true, create_graph: true)[0];
        var x1 = opt.Step(new[] { g }, new[] { x }, new[] { lr })[0];
        var inner2 = (x1 * x1 * mask).sum();
        var g2 = torch.autograd.grad(new[] { inner2 }, new[] { x1 }, retain_graph: true, create_graph: true)[0];
        var x2 = opt.Step(new[] { g2 }, new[] { x1 }, new[] { lr })[0];
        var outer = (x2 * x2).sum();
        var grads = torch.autograd.grad(new[] { outer }, new[] { x, lr });
        foreach (var t in grads) Assert.True(t.isfinite().all().ToBoolean(), "meta-gradient must be finite at v = 0");
        // d outer / d lr is non-zero: the learned step size gets signal.
        Assert.NotEqual(0.0, grads[1].ToDouble());
        // Entries with zero gradient are only decayed: x·(1−lr·wd)² exactly.
        double expected = -0.2 * Math.Pow(1 - 0.1 * 0.01, 2);
        Assert.Equal(expected, x2[1].ToDouble(), 14);
    }

    [Fact]
    public void SafeSqrtHasZeroDerivativeAtZeroAndExactDerivativeElsewhere()
    {
        using var scope = NewDisposeScope();
        var v = tensor(new double[] { 0.0, 4.0 }, ScalarType.Float64).requires_grad_(true);
        var s = DifferentiableAdamW.SafeSqrt(v * 1.0);
        var d1 = torch.autograd.grad(new[] { s.sum() }, new[] { v }, retain_graph: true, create_graph: true)[0];
        Assert.Equal(new[] { 0.0, 2.0 }, new[] { s[0].ToDouble(), s[1].ToDouble() });
        Assert.Equal(0.0, d1[0].ToDouble());
        Assert.Equal(0.25, d1[1].ToDouble(), 14);                  // 1 / (2·√4)
        var d2 = torch.autograd.grad(new[] { d1.sum() }, new[] { v })[0];
        Assert.Equal(0.0, d2[0].ToDouble());
        Assert.Equal(-1.0 / 32, d2[1].ToDouble(), 14);             // −1 / (4·4^1.5)
    }
}
