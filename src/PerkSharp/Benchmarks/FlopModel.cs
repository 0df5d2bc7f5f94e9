namespace PerkSharp.Benchmarks;

/// <summary>How attention scores are computed, which decides how many (query, key) pairs cost FLOPs.</summary>
public enum AttentionKernel
{
    /// <summary>matmul + masked_fill + softmax + matmul: the full T×S rectangle is computed, masked or not.</summary>
    Explicit,
    /// <summary>libtorch's fused (flash) kernel with the causal flag: only the T·past + T(T+1)/2 visible pairs.</summary>
    FusedCausal,
}

/// <summary>FLOPs of one pass split by kind of work (see <see cref="FlopModel"/> for the formulas).</summary>
public readonly record struct PassFlops(double Forward, double Backward, double DoubleBackward)
{
    public static PassFlops operator +(PassFlops a, PassFlops b) =>
        new(a.Forward + b.Forward, a.Backward + b.Backward, a.DoubleBackward + b.DoubleBackward);
    public static PassFlops operator *(double k, PassFlops a) => new(k * a.Forward, k * a.Backward, k * a.DoubleBackward);
    public double Total => Forward + Backward + DoubleBackward;
}

/// <summary>
/// Analytic FLOP model of PERK on a decoder-only transformer. Counts matmul FLOPs only (2 per multiply-add);
/// norms, activations, softmax, masking, embedding gathers and the AdamW updates are element-wise and left out,
/// as is usual for MFU (they are O(tokens·hidden), under 1% here). With n tokens, r the LoRA rank, and per projection
/// W [out, in] (a = 2·r·in, b = 2·r·out per token for LoRA's x·Aᵀ and low·Bᵀ):
/// <list type="bullet">
/// <item>Forward: base 2·n·in·out per projection; LoRA (a + b)·n per target; attention 4·pairs·heads·head_dim per layer
///   (QKᵀ and P·V, 2·head_dim each per pair); LM head 2·d·V per position whose logits are computed; weighting MLP
///   2·n·(d·128 + 128).</item>
/// <item>Backward with frozen base weights (inner gradient w.r.t. LoRA only): base projections need only the input
///   gradient dX = dY·W (2·n·in·out, no weight gradient); LoRA needs dlow = dY·B, dB = dYᵀ·low, dX = dlow·A,
///   dA = dlowᵀ·X = 2(a + b)·n; attention dP, dV, dQ, dK = 2× its forward; head and weighting MLP input gradients =
///   1× their forward. Layers below the first adapted layer need no backward at all, and in the first adapted layer
///   the projections that read the layer input (c_attn / q,k,v) need no input gradient (that input is constant), so
///   they cost 0 (base) and a + 2b (LoRA: no dX).</item>
/// <item>Double backward (outer pass through a step whose inner gradient kept its graph): the outer gradient
///   traverses the backward graph (each matmul differentiated w.r.t. its operands that carry graph) and the forward
///   graph once more. Frozen projection: 1 (backward graph, W frozen) + 1 (forward graph) = 2× its backward.
///   LoRA: 4 backward matmuls × 2 operands = 4(a + b), plus the forward graph 2(a + b) = 6(a + b) (first-layer
///   input readers: 2a + 6b). Attention: 4 backward matmuls × 2 = 8, plus forward 4, in units of one score matmul:
///   12/2 = 6× its forward. Head: 2× forward. Weighting MLP: 4× forward (its weights are meta-parameters).</item>
/// </list>
/// A PERK meta-step with N inner steps of which the last T keep second-order graph (docs/DESIGN.md) costs
/// N·(F + B)[context] + T·D[context] + (F + B)[query]; test-time encoding N·(F + B)[context] (independent of the
/// accumulation k, which only splits the context into micro-batches) plus greedy answer decoding with a KV cache;
/// in-context reasoning prefills context + prompt with the fused causal kernel and decodes with the context in cache.
/// </summary>
public sealed class FlopModel
{
    public FlopModel(TransformerShape shape, int loraRank, int adaptedLayers = 0)
    {
        if (loraRank < 1) throw new ArgumentOutOfRangeException(nameof(loraRank));
        Shape = shape; Rank = loraRank;
        AdaptedLayers = adaptedLayers <= 0 || adaptedLayers > shape.Layers ? shape.Layers : adaptedLayers;
    }

    public TransformerShape Shape { get; }
    public int Rank { get; }

    /// <summary>LoRA on the top <see cref="AdaptedLayers"/> layers (all by default).</summary>
    public int AdaptedLayers { get; }

    /// <summary>Query-key pairs whose score is computed, per sequence, for T new tokens after <paramref name="past"/> cached.</summary>
    public static double Pairs(long t, long past, AttentionKernel kernel) => kernel == AttentionKernel.Explicit
        ? (double)t * (past + t)
        : (double)t * past + t * (t + 1) / 2.0;

    /// <summary>
    /// FLOPs of one pass over <paramref name="sequences"/> sequences of <paramref name="length"/> new tokens.
    /// Backward/DoubleBackward are those of an inner gradient w.r.t. the LoRA weights (zero when <paramref name="lora"/>
    /// is false: the frozen model is never differentiated).
    /// </summary>
    public PassFlops Pass(long sequences, long length, AttentionKernel kernel, bool allLogits, bool lora, bool weighting,
        long past = 0)
    {
        double n = (double)sequences * length;
        double d = Shape.Hidden, v = Shape.Vocab;
        var projections = Shape.LayerProjections();
        double layerLinear = 2 * n * Shape.LayerMatmulParams;
        double attnLayer = 4.0 * sequences * Pairs(length, past, kernel) * Shape.QDim;
        double head = 2.0 * (allLogits ? n : sequences) * d * v;
        double wmlp = weighting ? 2 * n * (d * TransformerShape.WeightingHidden + TransformerShape.WeightingHidden) : 0;

        double fwd = Shape.Layers * (layerLinear + attnLayer) + head + wmlp;
        if (!lora) return new PassFlops(fwd, 0, 0);

        int adapted = AdaptedLayers;
        double loraFwd = 0, loraBwd = 0, loraDbl = 0, inputReaders = 0;
        foreach (var p in projections.Where(p => p.LoraTarget))
        {
            double a = 2.0 * n * Rank * p.In, b = 2.0 * n * Rank * p.Out;
            loraFwd += adapted * (a + b);
            // First adapted layer: no dX for projections reading the constant layer input.
            loraBwd += (adapted - 1) * 2 * (a + b) + (p.ReadsLayerInput ? a + 2 * b : 2 * (a + b));
            loraDbl += (adapted - 1) * 6 * (a + b) + (p.ReadsLayerInput ? 2 * a + 6 * b : 6 * (a + b));
        }
        foreach (var p in projections.Where(p => p.ReadsLayerInput)) inputReaders += 2 * n * p.In * p.Out;

        double baseBwd = adapted * layerLinear - inputReaders;
        double attnBwd = 2 * adapted * attnLayer;
        double bwd = baseBwd + loraBwd + attnBwd + head + wmlp;
        double dbl = 2 * baseBwd + loraDbl + 3 * attnBwd + 2 * head + 4 * wmlp;
        return new PassFlops(fwd + loraFwd, bwd, dbl);
    }

    /// <summary>
    /// One PERK meta-training step: <paramref name="innerSteps"/> = N passes (forward + inner gradient) over the
    /// context (segments as a batch, explicit attention, logits everywhere, weighting MLP), the last
    /// <paramref name="secondOrderSteps"/> = T of them double-differentiated, then the outer loss on the query
    /// (forward + backward to the final fast weights). Full: T = N; truncated: T = N − unroll_start; first-order: T = 0.
    /// </summary>
    public PassFlops MetaStep(long segments, long segmentLength, long queryLength, int innerSteps, int secondOrderSteps)
    {
        if (secondOrderSteps < 0 || secondOrderSteps > innerSteps) throw new ArgumentOutOfRangeException(nameof(secondOrderSteps));
        var ctx = Pass(segments, segmentLength, AttentionKernel.Explicit, allLogits: true, lora: true, weighting: true);
        var q = Pass(1, queryLength, AttentionKernel.Explicit, allLogits: true, lora: true, weighting: false);
        var inner = new PassFlops(innerSteps * ctx.Forward, innerSteps * ctx.Backward, secondOrderSteps * ctx.DoubleBackward);
        return inner + new PassFlops(q.Forward, q.Backward, 0);
    }

    /// <summary>Test-time encoding: N × (forward + inner gradient) over the context, no graph kept.</summary>
    public double Encode(long segments, long segmentLength, int innerSteps)
    {
        var ctx = Pass(segments, segmentLength, AttentionKernel.Explicit, allLogits: true, lora: true, weighting: true);
        return innerSteps * (ctx.Forward + ctx.Backward);
    }

    /// <summary>
    /// Greedy decoding of <paramref name="newTokens"/> tokens: a prefill of <paramref name="promptLength"/> tokens
    /// (for in-context reasoning the prompt includes the whole context) with last-position logits only, then
    /// newTokens − 1 one-token steps against the KV cache.
    /// </summary>
    public double Generate(long promptLength, long newTokens, bool lora, AttentionKernel prefillKernel = AttentionKernel.FusedCausal)
    {
        double total = Pass(1, promptLength, prefillKernel, allLogits: false, lora: false, weighting: false).Forward
                       + (lora ? LoraForward(promptLength) : 0);
        for (long i = 0; i < newTokens - 1; i++)
            total += Pass(1, 1, AttentionKernel.Explicit, allLogits: false, lora: false, weighting: false, past: promptLength + i).Forward
                     + (lora ? LoraForward(1) : 0);
        return total;
    }

    /// <summary>LoRA matmul FLOPs of a forward over n tokens (unmerged adapters).</summary>
    public double LoraForward(long n) =>
        AdaptedLayers * Shape.LayerProjections().Where(p => p.LoraTarget).Sum(p => 2.0 * n * Rank * (p.In + p.Out));

    /// <summary>PERK at test time: encode the context (N steps), then answer from the prompt alone with the adapted LoRA.</summary>
    public double PerkTestTime(long contextTokens, long segmentLength, long promptLength, long answerTokens, int innerSteps)
    {
        long segments = (contextTokens + segmentLength - 1) / segmentLength;
        return Encode(segments, segmentLength, innerSteps) + Generate(promptLength, answerTokens, lora: true);
    }

    /// <summary>In-context reasoning: prefill context + prompt (fused causal attention), then decode the answer.</summary>
    public double IcrTestTime(long contextTokens, long promptLength, long answerTokens) =>
        Generate(contextTokens + promptLength, answerTokens, lora: false);

    /// <summary>
    /// The smallest context (a multiple of the segment length, up to <paramref name="maxTokens"/>) at which PERK's
    /// test-time FLOPs are no larger than in-context reasoning's; null when PERK stays costlier up to the limit.
    /// PERK's cost is linear in the context and ICR's quadratic (attention), so there is one crossing.
    /// </summary>
    public long? BreakEvenTokens(long segmentLength, long promptLength, long answerTokens, int innerSteps, long maxTokens = 1L << 24)
    {
        bool PerkCheaper(long segs) =>
            PerkTestTime(segs * segmentLength, segmentLength, promptLength, answerTokens, innerSteps)
            <= IcrTestTime(segs * segmentLength, promptLength, answerTokens);
        long hi = 1, maxSegs = Math.Max(1, maxTokens / segmentLength);
        while (hi < maxSegs && !PerkCheaper(hi)) hi = Math.Min(maxSegs, hi * 2);
        if (!PerkCheaper(hi)) return null;
        long lo = hi / 2;                          // PerkCheaper(lo) is false (or lo = 0)
        while (hi - lo > 1)
        {
            long mid = (lo + hi) / 2;
            if (PerkCheaper(mid)) hi = mid; else lo = mid;
        }
        return hi * segmentLength;
    }
}
