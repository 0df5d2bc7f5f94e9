using PerkSharp.Models;
using PerkSharp.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>What one meta-step did.</summary>
/// <param name="OuterLoss">The answer loss under φ^(N) (NaN when skipped before it was computed).</param>
/// <param name="InnerLosses">Inner loss per step.</param>
/// <param name="GradNorm">Global meta-gradient norm before clipping (NaN when skipped early).</param>
/// <param name="LearningRate">Outer learning rate used for this update (0 when skipped).</param>
/// <param name="Skipped">True when a non-finite loss or gradient made the step a no-op.</param>
public sealed record MetaStepResult(double OuterLoss, IReadOnlyList<double> InnerLosses, double GradNorm, double LearningRate, bool Skipped);

/// <summary>
/// The outer loop (docs/DESIGN.md): per example, run the inner loop in the configured mode, take the answer-only
/// loss under the final fast weights, backpropagate into the LoRA init, LSLR and weighting model, clip the global
/// norm, and apply outer AdamW (official groups: weight decay on weights; none on biases and LSLR; betas 0.9/0.95)
/// with HF's cosine schedule with warmup. Non-finite losses or gradients skip the update and are counted.
/// </summary>
public sealed class MetaLearner : IDisposable
{
    readonly CausalLM _model;
    readonly MetaParameters _meta;
    readonly AdamW _optimizer;
    readonly List<(AdamW.ParamGroup Group, double BaseLr)> _groups = new();

    /// <param name="totalSteps">Planned number of meta-updates (cosine horizon).</param>
    /// <param name="warmupSteps">Linear warmup length (see <see cref="WarmupSteps"/>).</param>
    public MetaLearner(CausalLM model, MetaParameters meta, int totalSteps, int warmupSteps)
    {
        if (totalSteps < 1) throw new PerkException($"total meta-steps must be >= 1 (got {totalSteps})");
        if (warmupSteps < 0) throw new PerkException($"warmup steps must be >= 0 (got {warmupSteps})");
        _model = model; _meta = meta; TotalSteps = totalSteps; WarmupStepCount = warmupSteps;
        var s = meta.Settings;
        var decay = new List<Parameter>(); var noDecay = new List<Parameter>(); var lslr = new List<Parameter>();
        foreach (var (name, p) in meta.named_parameters())
        {
            if (name.StartsWith("lslr.")) lslr.Add(p);
            else if (name.Contains("bias") || name.Contains("LayerNorm.weight")) noDecay.Add(p);
            else decay.Add(p);
        }
        var groups = new List<AdamW.ParamGroup>();
        AdamW.ParamGroup G(List<Parameter> ps, double wd) => new(ps, s.OuterLr, s.OuterBeta1, s.OuterBeta2, s.OuterEps, wd, false, false);
        if (decay.Count > 0) groups.Add(G(decay, s.OuterWeightDecay));
        if (noDecay.Count > 0) groups.Add(G(noDecay, 0));
        if (lslr.Count > 0) groups.Add(G(lslr, 0));
        _optimizer = optim.AdamW(groups, s.OuterLr, s.OuterBeta1, s.OuterBeta2, s.OuterEps, s.OuterWeightDecay);
        foreach (var g in _optimizer.ParamGroups.Cast<AdamW.ParamGroup>()) _groups.Add((g, s.OuterLr));
    }

    public int TotalSteps { get; }
    public int WarmupStepCount { get; }

    /// <summary>Updates applied so far (the schedule's step counter; skipped steps do not advance it).</summary>
    public int UpdatesApplied { get; set; }

    /// <summary>Steps skipped because of a non-finite loss or gradient.</summary>
    public int SkippedSteps { get; set; }

    /// <summary>The outer AdamW (for saving/restoring its state on resume).</summary>
    public AdamW Optimizer => _optimizer;

    /// <summary>The official warmup: total·proportion (batch 1), capped at 8000.</summary>
    public static int WarmupSteps(int totalSteps, double proportion = 0.03) => Math.Min(8000, (int)(totalSteps * proportion));

    /// <summary>HF get_cosine_schedule_with_warmup multiplier at update <paramref name="step"/> (0-based).</summary>
    public static double ScheduleFactor(int step, int warmup, int total)
    {
        if (step < warmup) return step / (double)Math.Max(1, warmup);
        double progress = (step - warmup) / (double)Math.Max(1, total - warmup);
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 2.0 * 0.5 * progress)));
    }

    /// <summary>One meta-step on one example: inner loop, outer loss, meta-gradient, clip, AdamW update.</summary>
    public MetaStepResult Step(IReadOnlyList<TokenBatch> context, TokenBatch question)
    {
        var s = _meta.Settings;
        _optimizer.zero_grad();
        double outer = double.NaN;
        IReadOnlyList<double> inner = Array.Empty<double>();
        using (var scope = NewDisposeScope())
        {
            try
            {
                using var result = InnerLoop.Run(_model, _meta, context, s.Mode, s.TrainDropout);
                inner = result.Losses;
                var loss = InnerLoop.AnswerLoss(_model, _meta, result.FastWeights, question, s.TrainDropout);
                outer = loss.ToDouble();
                if (!double.IsFinite(outer)) throw new NonFiniteLossException("outer loss");
                loss.backward();
            }                                                           // fast weights and graph released here
            catch (NonFiniteLossException) { return Skip(outer, inner, double.NaN); }
        }
        var parameters = _meta.parameters().Where(p => p.grad is not null).ToList();
        double norm = nn.utils.clip_grad_norm_(parameters, s.MaxGradNorm);
        if (!double.IsFinite(norm)) return Skip(outer, inner, norm);
        double lr = s.OuterLr * ScheduleFactor(UpdatesApplied, WarmupStepCount, TotalSteps);
        foreach (var (g, baseLr) in _groups) g.LearningRate = baseLr * ScheduleFactor(UpdatesApplied, WarmupStepCount, TotalSteps);
        _optimizer.step();
        _optimizer.zero_grad();
        UpdatesApplied++;
        return new MetaStepResult(outer, inner, norm, lr, Skipped: false);
    }

    MetaStepResult Skip(double outer, IReadOnlyList<double> inner, double norm)
    {
        _optimizer.zero_grad();
        SkippedSteps++;
        return new MetaStepResult(outer, inner, norm, 0, Skipped: true);
    }

    public void Dispose() => _optimizer.Dispose();
}
