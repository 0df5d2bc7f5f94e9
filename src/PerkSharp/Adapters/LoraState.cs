using static TorchSharp.torch;

namespace PerkSharp.Adapters;

/// <summary>
/// The LoRA fast weights a forward pass runs with. Indexed by the model's <c>LoraTargets</c> order; a null entry
/// means that projection is not adapted (e.g. outside the top-k layers). The tensors may be non-leaf tensors that
/// carry autograd graph (inner-loop fast weights), which is why the model never copies or re-registers them.
/// A: [r, in], B: [out, r] (PEFT's lora_A / lora_B weight shapes, also for GPT-2 Conv1D). Batched meta-steps
/// give every example its own fast weights: A [E, r, in], B [E, out, r], and the input rows are example-major
/// (rows e·R .. e·R+R−1 belong to example e), so one bmm per projection serves all E examples.
/// </summary>
public sealed class LoraState
{
    public LoraState(IReadOnlyList<Tensor?> a, IReadOnlyList<Tensor?> b, double scale, double dropout = 0.0, bool training = false)
    {
        if (a.Count != b.Count) throw new ArgumentException("LoRA A and B lists differ in length");
        A = a; B = b; Scale = scale; Dropout = dropout; Training = training;
    }

    public IReadOnlyList<Tensor?> A { get; }
    public IReadOnlyList<Tensor?> B { get; }

    /// <summary>alpha/sqrt(r) (rsLoRA) or alpha/r.</summary>
    public double Scale { get; }

    /// <summary>Dropout probability on the LoRA input path (active only when <see cref="Training"/>).</summary>
    public double Dropout { get; }

    public bool Training { get; }

    /// <summary>Examples with their own fast weights (1 for the 2-D layout).</summary>
    public long Examples => A.FirstOrDefault(t => t is not null) is { ndim: 3 } t3 ? t3.shape[0] : 1;

    /// <summary>
    /// Adds the LoRA update of target <paramref name="index"/> to a base projection output:
    /// y = baseOut + scale * B(A(dropout(x))). x: [..., in], baseOut: [..., out]. The update is computed in the
    /// adapter's dtype (fp32 on a bf16 base) and the result has baseOut's dtype (<see cref="MixedPrecision"/>).
    /// </summary>
    public Tensor Apply(int index, Tensor x, Tensor baseOut)
    {
        var a = A[index];
        var b = B[index];
        if (a is null || b is null) return baseOut;
        // Hot path (every adapted projection of every inner step): no new tensor handle unless a cast or dropout needs one.
        using var xa = x.dtype == a.dtype ? null : x.to(a.dtype);
        using var dropped = Training && Dropout > 0 ? nn.functional.dropout(xa ?? x, Dropout, training: true) : null;
        var h = dropped ?? xa ?? x;
        if (a.ndim == 3)
        {
            // Per-example LoRA: [N, T, in] -> [E, N/E·T, in], bmm with Aᵀ [E, in, r] then Bᵀ [E, r, out].
            using var h3 = h.reshape(a.shape[0], -1, h.shape[^1]);
            using var lowB = h3.bmm(a.transpose(1, 2));
            using var upB = lowB.bmm(b.transpose(1, 2));
            using var up3 = upB.reshape(baseOut.shape);
            return MixedPrecision.AddUpdate(baseOut, up3, Scale);
        }
        using var low = nn.functional.linear(h, a);        // [..., r]
        using var up = nn.functional.linear(low, b);       // [..., out]
        return MixedPrecision.AddUpdate(baseOut, up, Scale);
    }
}
