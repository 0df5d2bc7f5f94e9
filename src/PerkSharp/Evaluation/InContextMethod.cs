using System.Diagnostics;
using PerkSharp.Data;
using PerkSharp.Generation;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Tokenization;
using static TorchSharp.torch;

namespace PerkSharp.Evaluation;

/// <summary>
/// In-context reasoning: the context is in the prompt. Used by FT-ICR (the LoRA fine-tuned for it) and by BM25
/// retrieval (only the top-k segments go into the prompt). The prompt is the segments rendered as in PERK
/// ("doc_i: text", one per line) followed by the question and "Answer:"; the target format is PERK's. When the prompt
/// does not fit the model's positions, the oldest context tokens are dropped (the question is always kept) — the
/// fixed-window behaviour the paper's extrapolation tests measure.
/// </summary>
public sealed class InContextMethod : IEvalMethod
{
    readonly CausalLM _model;
    readonly ITokenizer _tok;
    readonly MetaParameters? _lora;
    readonly int _maxNewTokens;
    readonly int _topK;

    /// <param name="lora">The fine-tuned LoRA (FT-ICR) or null for the base model.</param>
    /// <param name="bm25TopK">0: whole context; k > 0: BM25 top-k segments for the question (in context order).</param>
    public InContextMethod(CausalLM model, ITokenizer tokenizer, MetaParameters? lora, int maxNewTokens, string name, int bm25TopK = 0)
    {
        _model = model; _tok = tokenizer; _lora = lora; _maxNewTokens = maxNewTokens; Name = name; _topK = bm25TopK;
    }

    public string Name { get; }

    /// <summary>Prompt text of an example with its (possibly retrieved) segments.</summary>
    public static string PromptText(IReadOnlyList<string> segments, IReadOnlyList<int> docIds, string question) =>
        string.Concat(segments.Select((s, i) => $"{PerkFormat.SegmentPrompt(docIds[i])} {s}\n")) + question + "\nAnswer:";

    /// <summary>
    /// Token ids of prompt (+ " target" + eos when <paramref name="target"/> is given), cut from the left of the
    /// context so that the whole sequence (plus <paramref name="reserve"/> generated tokens) fits the positions.
    /// Returns the ids and the prompt length.
    /// </summary>
    public static (int[] Ids, int PromptLength) Encode(ITokenizer tok, int maxPositions, IReadOnlyList<string> segments,
                                                        IReadOnlyList<int> docIds, string question, string? target, int reserve)
    {
        var ctx = tok.Encode(string.Concat(segments.Select((s, i) => $"{PerkFormat.SegmentPrompt(docIds[i])} {s}\n")));
        var q = tok.Encode(question + "\nAnswer:");
        var t = target is null ? new List<int>() : tok.Encode(" " + target).Append(tok.EosId).ToList();
        int room = maxPositions - reserve - q.Count - t.Count;
        if (room < 0) throw new Runtime.PerkException($"question and answer alone ({q.Count + t.Count} tokens) exceed the model's {maxPositions} positions");
        var kept = ctx.Count > room ? ctx.Skip(ctx.Count - room) : ctx;
        var prompt = kept.Concat(q).ToArray();
        return (prompt.Concat(t).ToArray(), prompt.Length);
    }

    public MethodAnswer Answer(PerkExample ex)
    {
        var sw = Stopwatch.StartNew();
        IReadOnlyList<string> segs = ex.Context;
        IReadOnlyList<int> ids = Enumerable.Range(0, segs.Count).ToArray();
        if (_topK > 0)
        {
            var top = new Bm25(ex.Context).TopK(ex.Question, _topK);
            segs = top.Select(i => ex.Context[i]).ToList();
            ids = top;
        }
        double encodeMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var cfg = _model.Config;
        int reserve = Math.Min(_maxNewTokens, cfg.MaxPositionEmbeddings / 4);
        var (prompt, _) = Encode(_tok, cfg.MaxPositionEmbeddings, segs, ids, ex.Question, null, reserve);
        _model.eval();
        string output;
        using (no_grad())
        {
            var state = _lora?.Lora.State(_lora.Lora.Initial.Cast<Tensor>().ToList(), training: false);
            output = OutputText.Decode(_tok, new GreedyGenerator(_model, _tok).Generate(prompt, reserve, state));
        }
        int contextTokens = _tok.Encode(string.Concat(ex.Context.Select((s, i) => $"{PerkFormat.SegmentPrompt(i)} {s}\n"))).Count;
        return new MethodAnswer(PromptText(segs, ids, ex.Question), output, encodeMs, sw.Elapsed.TotalMilliseconds, contextTokens);
    }
}
