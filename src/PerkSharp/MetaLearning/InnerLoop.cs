using PerkSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>A non-finite inner or outer loss (the meta-step is skipped and counted).</summary>
public sealed class NonFiniteLossException : Exception
{
    public NonFiniteLossException(string what) : base($"non-finite {what}") { }
}

/// <summary>
/// Detached inner gradients per step, recorded from one run and replayable in another. This defines the surrogate
/// objective of the truncated and first-order modes precisely: its finite differences hold the detached gradients
/// fixed, which is what the analytic meta-gradient differentiates.
/// </summary>
public sealed class DetachedGradients : IDisposable
{
    internal readonly Dictionary<int, List<Tensor>> Steps = new();
    public void Dispose() { foreach (var l in Steps.Values) foreach (var t in l) t.Dispose(); Steps.Clear(); }
}

/// <summary>
/// The result of one inner loop: the final fast weights φ^(N) and the inner loss of every step. It owns every fast
/// weight set of the trajectory (kept alive for the outer backward in the graph modes) and frees them on Dispose,
/// which the caller does after the outer backward.
/// </summary>
public sealed class InnerLoopResult : IDisposable
{
    readonly List<List<Tensor>> _owned = new();

    internal InnerLoopResult(IReadOnlyList<double> losses) { Losses = losses; }

    /// <summary>φ^(N): [A_0, B_0, ...]; graph-carrying in the training modes, detached leaves in evaluation.</summary>
    public IReadOnlyList<Tensor> FastWeights { get; internal set; } = Array.Empty<Tensor>();

    /// <summary>Inner loss per step (sum over micro-batches of loss/k, i.e. the full-context loss).</summary>
    public IReadOnlyList<double> Losses { get; }

    internal void Own(List<Tensor> set) => _owned.Add(set);

    public void Dispose()
    {
        foreach (var set in _owned) foreach (var t in set) t.Dispose();
        _owned.Clear();
    }
}

/// <summary>
/// The PERK inner loop (docs/DESIGN.md): N steps, each a full pass over all context micro-batches with the
/// weighted token loss, gradients of loss/k summed over the k micro-batches, then one differentiable optimizer update
/// with the LSLR step sizes of that step. Modes decide which gradients keep their graph (create_graph + retain_graph)
/// and which are detached; the update path p → p_new is differentiable in every training mode.
/// </summary>
public static class InnerLoop
{
    /// <param name="dropout">LoRA (and base) dropout active, as the official train-mode inner loop.</param>
    /// <param name="replay">Use these recorded gradients for the detached steps instead of computing them.</param>
    /// <param name="record">Record the detached steps' gradients (returned via <paramref name="recorded"/>).</param>
    public static InnerLoopResult Run(CausalLM model, MetaParameters meta, IReadOnlyList<TokenBatch> microBatches,
                                      InnerLoopMode mode, bool dropout, DetachedGradients? replay = null,
                                      DetachedGradients? recorded = null) =>
        Run(model, meta, () => microBatches, microBatches.Count, microBatches[0].Examples, mode, dropout, replay, recorded);

    /// <summary>
    /// The test-time inner loop over lazily built parts (<see cref="ContextParts"/>): one part's activations at a
    /// time, so memory follows the part size and not the document's.
    /// </summary>
    public static InnerLoopResult Run(CausalLM model, MetaParameters meta, ContextParts parts, bool dropout) =>
        Run(model, meta, parts.Step, parts.Chunks, 1, InnerLoopMode.Evaluation, dropout, null, null);

    static InnerLoopResult Run(CausalLM model, MetaParameters meta, Func<IEnumerable<TokenBatch>> step, int chunks, int examples,
                               InnerLoopMode mode, bool dropout, DetachedGradients? replay, DetachedGradients? recorded)
    {
        var s = meta.Settings;
        var lossLog = new List<double>();
        var result = new InnerLoopResult(lossLog);
        using var opt = CreateOptimizer(s);
        model.train(dropout);
        bool eval = mode == InnerLoopMode.Evaluation;
        List<Tensor> fast;
        if (examples > 1)
        {
            // Batched: every example starts from θ_LoRA, as its own slice [E, ...] (training: a view whose gradient sums
            // into θ over the examples; evaluation: independent detached leaves).
            fast = meta.Lora.Initial.Select(p => Expand(p, examples, detach: eval)).ToList();
            result.Own(fast);
        }
        else if (eval) { fast = meta.Lora.DetachedCopy(); result.Own(fast); }
        else fast = meta.Lora.Initial.Cast<Tensor>().ToList();    // the meta-parameters themselves: φ^(0) = θ_LoRA
        var dtype = meta.DType;
        try
        {
            for (int it = 0; it < s.InnerSteps; it++)
            {
                bool detach = eval || mode == InnerLoopMode.FirstOrder || (mode == InnerLoopMode.Truncated && it < s.UnrollStart);
                List<Tensor> next;
                using (var stepScope = NewDisposeScope())
                {
                    List<Tensor> grads;
                    if (detach && replay != null && replay.Steps.TryGetValue(it, out var stored))
                    {
                        grads = stored.Select(g => g.alias()).ToList();
                        lossLog.Add(double.NaN);
                    }
                    else
                    {
                        (grads, double loss) = Gradients(model, meta, fast, step(), chunks, secondOrder: !detach, dropout);
                        lossLog.Add(loss / examples);                                   // mean over the batch's examples
                    }
                    if (detach && recorded != null) recorded.Steps[it] = grads.Select(g => g.detach().clone().DetachFromDisposeScope()).ToList();
                    var lrs = meta.StepSizes.At(it, dtype);
                    if (eval)
                    {
                        using var _ = no_grad();
                        next = opt.Step(grads, fast, lrs.Select(l => l.detach()).ToList());
                        foreach (var t in next) t.requires_grad_(true);
                    }
                    else next = opt.Step(grads, fast, lrs);
                    foreach (var t in next) t.DetachFromDisposeScope();  // owned by the result from here on
                }
                result.Own(next);
                fast = next;
            }
        }
        catch
        {
            result.Dispose();
            throw;
        }
        result.FastWeights = fast;
        return result;
    }

    /// <summary>
    /// Σ_c ∂(L_c/k)/∂φ over the k micro-batches (or their parts, which carry their own k). With
    /// <paramref name="secondOrder"/> the gradients carry graph (create_graph and retain_graph), otherwise they are
    /// detached and each micro-batch's graph is freed at once: test time keeps no graph beyond one forward/backward.
    /// </summary>
    static (List<Tensor> Grads, double Loss) Gradients(CausalLM model, MetaParameters meta, IReadOnlyList<Tensor> fast,
                                                       IEnumerable<TokenBatch> microBatches, int k, bool secondOrder, bool dropout)
    {
        List<Tensor>? sum = null;
        double total = 0;
        using var gradMode = enable_grad();
        foreach (var mb in microBatches)
        {
            using var scope = NewDisposeScope();
            var loss = InnerLoss(model, meta, fast, mb, mb.PartOfChunks > 0 ? mb.PartOfChunks : k, dropout);
            double value = loss.ToDouble();
            if (!double.IsFinite(value)) throw new NonFiniteLossException("inner loss");
            total += value;
            var g = torch.autograd.grad(new[] { loss }, fast.ToList(), retain_graph: secondOrder, create_graph: secondOrder);
            var gl = secondOrder ? g.ToList() : g.Select(x => x.detach()).ToList();
            if (sum != null && !secondOrder)
            {
                // In place: a new sum per micro-batch left one small live block after every part's large freed
                // ones, and the heap grew with the number of parts (748 segments in parts of 8 peaked at 454 MB,
                // 254 MB in place). a + b and a += b round alike, so the result is unchanged.
                for (int i = 0; i < sum.Count; i++) sum[i].add_(gl[i]);
                continue;
            }
            var acc = sum is null ? gl : sum.Zip(gl, (a, b) => a + b).ToList();
            foreach (var t in acc) t.MoveToOuterDisposeScope();
            sum = acc;
        }
        return (sum!, total);
    }

    /// <summary>
    /// The weighted inner loss of one micro-batch under fast weights (already divided by k). A multi-example batch
    /// gives the sum of its examples' losses, each as it would be alone.
    /// </summary>
    public static Tensor InnerLoss(CausalLM model, MetaParameters meta, IReadOnlyList<Tensor> fast, TokenBatch mb, int k, bool dropout)
    {
        using var scope = NewDisposeScope();
        var output = model.forward(mb.ToInput(meta.Lora.State(fast, dropout)));
        var w = meta.Weighting?.forward(output.LastHidden, mb.TokenMask);
        var loss = mb.Examples > 1
            ? Losses.WeightedTokenLossBatched(output.Logits, mb.Labels, w, mb)
            : Losses.WeightedTokenLoss(output.Logits, mb.Labels, w, mb.Denominator, k, mb.PartOfLabelled);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>The outer (answer-only) loss under fast weights φ; the mean over examples for a multi-example batch.</summary>
    public static Tensor AnswerLoss(CausalLM model, MetaParameters meta, IReadOnlyList<Tensor> fast, TokenBatch question, bool dropout)
    {
        using var scope = NewDisposeScope();
        model.train(dropout);
        var output = model.forward(question.ToInput(meta.Lora.State(fast, dropout)));
        var loss = question.Examples > 1 ? Losses.AnswerLossBatched(output.Logits, question.Labels) : Losses.AnswerLoss(output.Logits, question.Labels);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>θ [...] as E per-example copies [E, ...]: a graph-carrying view, or detached independent leaves.</summary>
    static Tensor Expand(Tensor p, int examples, bool detach)
    {
        var shape = new long[] { examples }.Concat(p.shape).ToArray();
        if (!detach) return p.unsqueeze(0).expand(shape);
        using var d = p.detach();
        return d.unsqueeze(0).expand(shape).clone().requires_grad_(true);
    }

    static IDifferentiableOptimizer CreateOptimizer(PerkSettings s) => s.InnerOptimizer == InnerOptimizerKind.AdamW
        ? new DifferentiableAdamW(s.InnerBeta1, s.InnerBeta2, s.InnerEps, s.InnerWeightDecay)
        : new DifferentiableSgd(s.InnerWeightDecay);
}
