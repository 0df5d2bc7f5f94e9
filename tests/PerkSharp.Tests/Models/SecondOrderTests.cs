using PerkSharp.Adapters;
using PerkSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Models;

/// <summary>
/// Second derivatives through one full transformer block (explicit attention, LoRA on every projection of the block,
/// two packed segments): the Hessian-vector product of the loss w.r.t. the LoRA weights equals central finite
/// differences of the gradient, in float64. This is the derivative meta-learning differentiates.
/// </summary>
public class SecondOrderTests
{
    static Tensor Loss(CausalLM m, LoraState lora, Tensor ids, Tensor pos, Tensor seg, Tensor targets)
    {
        var o = m.forward(new LMInput(ids, pos, seg) { Lora = lora });
        o.LastHidden.Dispose();
        return nn.functional.cross_entropy(o.Logits.view(-1, TinyModels.Vocab), targets);
    }

    static LoraState Shift(LoraState l, IReadOnlyList<Tensor> dirs, double eps, bool grad)
    {
        Tensor Move(Tensor t, Tensor d) => t.detach().add(d, eps).requires_grad_(grad);
        int n = l.A.Count;
        return new LoraState(Enumerable.Range(0, n).Select(i => (Tensor?)Move(l.A[i]!, dirs[i])).ToList(),
                             Enumerable.Range(0, n).Select(i => (Tensor?)Move(l.B[i]!, dirs[n + i])).ToList(), l.Scale);
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void HessianVectorProductThroughABlockMatchesFiniteDifferences(string arch)
    {
        using var m = TinyModels.Create(arch, layers: 1, dtype: ScalarType.Float64);
        var lora = TinyModels.RandomLora(m, 2, 0.2, 5, ScalarType.Float64, requiresGrad: true);
        var theta = lora.A.Concat(lora.B).Select(t => t!).ToList();
        using var gen = new Generator(11, CPU);
        var dirs = theta.Select(t => randn(t.shape, ScalarType.Float64, generator: gen)).ToList();
        using var ids = TinyModels.Ids(new long[] { 3, 1, 4, 1, 5, 9, 2, 6 });
        using var pos = TinyModels.Ids(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 });
        using var seg = TinyModels.Ids(new long[] { 1, 1, 1, 1, 1, 2, 2, 2 });
        using var targets = tensor(new long[] { 1, 4, 1, 5, 9, 2, 6, 5 });

        // Analytic: d/dθ (∇L(θ)·v), with create_graph and retain_graph (TorchSharp needs both).
        using var loss = Loss(m, lora, ids, pos, seg, targets);
        var g = torch.autograd.grad(new[] { loss }, theta, create_graph: true, retain_graph: true);
        var gv = g.Zip(dirs).Select(p => p.First.mul(p.Second).sum()).Aggregate((a, b) => a.add(b));
        var hv = torch.autograd.grad(new[] { gv }, theta, retain_graph: false);

        // Numeric: (∇L(θ + εv) − ∇L(θ − εv)) / 2ε.
        const double eps = 1e-5;
        IList<Tensor> GradAt(double e)
        {
            var l = Shift(lora, dirs, e, grad: true);
            var p = l.A.Concat(l.B).Select(t => t!).ToList();
            using var le = Loss(m, l, ids, pos, seg, targets);
            return torch.autograd.grad(new[] { le }, p);
        }
        var gp = GradAt(eps);
        var gm = GradAt(-eps);
        double num = 0, den = 0;
        for (int i = 0; i < theta.Count; i++)
        {
            using var fd = gp[i].sub(gm[i]).div(2 * eps);
            num += fd.sub(hv[i]).pow(2).sum().item<double>();
            den += hv[i].pow(2).sum().item<double>();
        }
        Assert.True(den > 1e-6, "degenerate test: zero Hessian-vector product");
        Assert.True(Math.Sqrt(num / den) < 1e-6, $"relative error {Math.Sqrt(num / den):E2}");
    }
}
