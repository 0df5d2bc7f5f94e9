using PerkSharp.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>Output non-linearity of the token-weighting model (official default: softplus with β = 3).</summary>
public enum WeightNonlinearity { Softplus, Sigmoid, Exp, Gelu }

/// <summary>
/// The token-weighting model (CaMeLS-style, docs/DESIGN.md): w = φ(fc2(gelu(fc1(h)))) · mask, with
/// fc1 = Linear(hidden, 128) (default init), fc2 = Linear(128, 1) zero-initialised (weight and bias), so every token
/// weighs softplus_β3(0) = ln2/3 ≈ 0.2310 at the start. It reads the adapted model's final-norm hidden state and is
/// not detached; it is frozen in the inner loop and meta-learned by the outer optimizer.
/// </summary>
public sealed class WeightingModel : nn.Module<Tensor, Tensor, Tensor>
{
    public const int Width = 128;
    public const double SoftplusBeta = 3.0;

    readonly Linear fc1;
    readonly Linear fc2;

    public WeightingModel(int hiddenSize, WeightNonlinearity nonlinearity = WeightNonlinearity.Softplus, bool normalize = false,
                          ScalarType dtype = ScalarType.Float32, Generator? generator = null) : base("weighting")
    {
        if (hiddenSize < 1) throw new PerkException($"weighting model: hidden size must be >= 1 (got {hiddenSize})");
        fc1 = nn.Linear(hiddenSize, Width, dtype: dtype);
        fc2 = nn.Linear(Width, 1, dtype: dtype);
        using (no_grad())
        {
            if (generator != null)
            {
                // PyTorch's default Linear init (U(±1/√fan_in) for weight and bias), drawn from a seeded generator.
                double bound = 1.0 / Math.Sqrt(hiddenSize);
                using var w = rand(fc1.weight!.shape, dtype, generator: generator);
                using var b = rand(fc1.bias!.shape, dtype, generator: generator);
                fc1.weight!.copy_(w * (2 * bound) - bound);
                fc1.bias!.copy_(b * (2 * bound) - bound);
            }
            fc2.weight!.zero_(); fc2.bias!.zero_();
        }
        Nonlinearity = nonlinearity;
        Normalize = normalize;
        RegisterComponents();
    }

    public WeightNonlinearity Nonlinearity { get; }

    /// <summary>Rescale each row's weights to sum to its number of real tokens (official default: off).</summary>
    public bool Normalize { get; }

    /// <summary>
    /// Per-token weights. hidden: [B, L, H] (a bf16 base's hidden state is upcast to this model's dtype);
    /// tokenMask: [B, L] (1 real token, 0 padding). Returns [B, L] in this model's dtype.
    /// </summary>
    public override Tensor forward(Tensor hidden, Tensor tokenMask)
    {
        using var scope = NewDisposeScope();
        var h = Adapters.MixedPrecision.ToAdapter(hidden, fc1.weight!.dtype);
        var z = fc2.forward(nn.functional.gelu(fc1.forward(h))).squeeze(-1);           // [B, L]
        var w = Nonlinearity switch
        {
            WeightNonlinearity.Softplus => nn.functional.softplus(z, SoftplusBeta),
            WeightNonlinearity.Sigmoid => z.sigmoid(),
            WeightNonlinearity.Exp => z.exp(),
            _ => nn.functional.gelu(z),
        };
        var mask = tokenMask.to_type(w.dtype);
        w = w * mask;
        if (Normalize)
        {
            // Each row sums to its token count (the official option's intent; off in the shipped configs).
            var sum = w.sum(-1, keepdim: true).clamp_min(1e-12);
            w = w / sum * mask.sum(-1, keepdim: true);
        }
        return w.MoveToOuterDisposeScope();
    }
}
