using System.Diagnostics;
using PerkSharp.Data;
using PerkSharp.Generation;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Evaluation;

/// <summary>
/// PERK at test time (PERK-METHOD §3.6): encode the context by running the inner loop from the meta-learned LoRA
/// (learned rates, token weights, no graph, dropout as in training), then greedy-decode the answer from the question
/// prompt alone — the context is never in the prompt. The same class is the test-time fine-tuning baseline (TTFT,
/// Temp-LoRA/LIFT style) when given fresh, un-meta-learned parameters with fixed rates and uniform weights.
/// </summary>
public sealed class PerkMethod : IEvalMethod
{
    readonly CausalLM _model;
    readonly ITokenizer _tok;
    readonly MetaParameters _meta;
    readonly int _maxNewTokens;

    public PerkMethod(CausalLM model, ITokenizer tokenizer, MetaParameters meta, int maxNewTokens, string name = "perk")
    {
        _model = model; _tok = tokenizer; _meta = meta; _maxNewTokens = maxNewTokens; Name = name;
    }

    public string Name { get; }

    public MethodAnswer Answer(PerkExample ex)
    {
        var sw = Stopwatch.StartNew();
        using var memory = Encode(ex.Context, out int contextTokens);
        double encodeMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        string prompt = PerkFormat.QuestionPrompt(ex.Context.Count, ex.Question);
        string output = Decode(memory.FastWeights, ex.Context.Count, ex.Question);
        return new MethodAnswer(prompt, output, encodeMs, sw.Elapsed.TotalMilliseconds, contextTokens);
    }

    /// <summary>The inner loop in evaluation mode over the context (test-time segments: sequential doc ids).</summary>
    public InnerLoopResult Encode(IReadOnlyList<string> context, out int contextTokens)
    {
        var cfg = _model.Config;
        var segs = PerkBatcher.Context(context, _tok, cfg.VocabSize, cfg.MaxPositionEmbeddings);
        contextTokens = segs.Sum(s => s.Ids.Length);
        var s = _meta.Settings;
        var mbs = PerkBatcher.MicroBatches(segs, s.TestAccumulation, s.Packing, _tok.PadId, s.PackedNormalization);
        try { return InnerLoop.Run(_model, _meta, mbs, InnerLoopMode.Evaluation, s.TrainDropout); }
        finally { foreach (var m in mbs) m.Dispose(); }
    }

    /// <summary>Greedy answer under the adapted fast weights (eval mode: no dropout).</summary>
    public string Decode(IReadOnlyList<Tensor> fast, int numDocuments, string question)
    {
        var cfg = _model.Config;
        var prompt = PerkBatcher.Prompt(numDocuments, question, _tok, cfg.VocabSize, cfg.MaxPositionEmbeddings);
        int budget = Math.Max(1, Math.Min(_maxNewTokens, cfg.MaxPositionEmbeddings - prompt.Length));
        _model.eval();
        using var _ = no_grad();
        var ids = new GreedyGenerator(_model, _tok).Generate(prompt, budget, _meta.Lora.State(fast, training: false));
        return _tok.Decode(ids).Trim();
    }

    /// <summary>The outer (answer) loss after test-time adaptation — the official validation loss.</summary>
    public double AnswerLossAfterAdaptation(PerkExample ex)
    {
        using var memory = Encode(ex.Context, out _);
        var cfg = _model.Config;
        var q = PerkBatcher.Question(ex.Context.Count, ex.Question, ex.Answer, ex.Support, _tok, cfg.VocabSize, cfg.MaxPositionEmbeddings);
        using var qb = PerkBatcher.Separate(new[] { q }, _tok.PadId);
        using var noGrad = no_grad();
        using var loss = InnerLoop.AnswerLoss(_model, _meta, memory.FastWeights, qb, dropout: false);
        _model.eval();
        return loss.ToDouble();
    }
}
