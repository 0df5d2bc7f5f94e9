using PerkSharp.Adapters;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using static TorchSharp.torch;

namespace PerkSharp.Generation;

/// <summary>
/// Greedy decoding with a KV cache, as HF generate(do_sample=False): prompts are left-padded into one batch (real
/// tokens get positions 0.., padding is masked out), each step feeds one token per row, and a row stops after it
/// emits an end-of-text id (which is kept in its output) or after max new tokens. Runs without autograd and may use
/// the fused attention kernel. Returns the generated ids only.
/// </summary>
public sealed class GreedyGenerator
{
    readonly CausalLM _model;
    readonly HashSet<int> _eos;
    readonly int _pad;

    /// <param name="eosIds">Ids that end a row (may be empty: then only max new tokens stops).</param>
    /// <param name="padId">Id fed for padding and for rows that have already stopped (never attended).</param>
    public GreedyGenerator(CausalLM model, IEnumerable<int> eosIds, int padId)
    {
        _model = model;
        _eos = eosIds.ToHashSet();
        if (padId < 0 || padId >= model.Config.VocabSize)
            throw new PerkException($"pad id {padId} is outside the vocabulary (size {model.Config.VocabSize})");
        _pad = padId;
    }

    /// <summary>Stops at the tokenizer's end-of-text and the config's eos_token_id; pads with the tokenizer's pad id.</summary>
    public GreedyGenerator(CausalLM model, ITokenizer tokenizer)
        : this(model, new[] { tokenizer.EosId }.Concat(model.Config.EosTokenId is int e ? new[] { e } : Array.Empty<int>()), tokenizer.PadId) { }

    /// <summary>Use the fused attention kernel (default true; false runs the explicit path).</summary>
    public bool AllowFusedAttention { get; init; } = true;

    public int[] Generate(IReadOnlyList<int> prompt, int maxNewTokens, LoraState? lora = null) =>
        Generate(new[] { prompt }, maxNewTokens, lora)[0];

    /// <summary>Generates for every prompt (one batch); result[i] holds the new ids of prompt i.</summary>
    public IReadOnlyList<int[]> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, int maxNewTokens, LoraState? lora = null)
    {
        var cfg = _model.Config;
        if (prompts.Count == 0) throw new PerkException("no prompt given");
        if (maxNewTokens < 0) throw new PerkException($"max new tokens must be >= 0 (got {maxNewTokens})");
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Count == 0) throw new PerkException($"prompt {i} is empty");
            foreach (var id in prompts[i])
                if (id < 0 || id >= cfg.VocabSize)
                    throw new PerkException($"prompt {i}: token id {id} is outside the vocabulary (size {cfg.VocabSize})");
        }
        int b = prompts.Count, width = prompts.Max(p => p.Count);
        var outputs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        if (maxNewTokens == 0) return outputs.Select(o => o.ToArray()).ToArray();
        if (cfg.IsGpt2 && width + maxNewTokens - 1 > cfg.MaxPositionEmbeddings)
            throw new PerkException($"prompt ({width} tokens) + {maxNewTokens} new tokens exceed n_positions ({cfg.MaxPositionEmbeddings})");

        // Left padding: row r = [pad × (width - len) | prompt]; mask 0/1 (one segment); positions count real tokens.
        var ids = new long[b * width];
        var pos = new long[b * width];
        var mask = Enumerable.Range(0, b).Select(_ => new List<long>(width + maxNewTokens)).ToArray();
        var nextPos = new long[b];
        for (int r = 0; r < b; r++)
        {
            int padLen = width - prompts[r].Count;
            for (int j = 0; j < width; j++)
            {
                bool real = j >= padLen;
                ids[r * width + j] = real ? prompts[r][j - padLen] : _pad;
                pos[r * width + j] = real ? j - padLen : 0;
                mask[r].Add(real ? 1 : 0);
            }
            nextPos[r] = prompts[r].Count;
        }

        // Without padding the mask says nothing beyond causality: drop it, so the fused kernel runs with its causal
        // flag (prefill) or unmasked (one query per step), exactly as HF's sdpa path does.
        bool padded = prompts.Any(p => p.Count != width);
        using var noGrad = no_grad();
        using var cache = _model.NewCache();
        var done = new bool[b];
        long stepLen = width;
        for (int step = 0; step < maxNewTokens; step++)
        {
            long[] next;
            using (NewDisposeScope())
            {
                using var idT = tensor(ids, new long[] { b, stepLen });
                using var posT = tensor(pos, new long[] { b, stepLen });
                using var maskT = padded ? tensor(mask.SelectMany(m => m).ToArray(), new long[] { b, mask[0].Count }) : null;
                var input = new LMInput(idT, posT, maskT) { Cache = cache, Lora = lora, AllowFusedAttention = AllowFusedAttention, LastLogitsOnly = true };
                var output = _model.forward(input);
                next = output.Logits.select(1, -1).argmax(-1).data<long>().ToArray();   // [B]
            }
            for (int r = 0; r < b; r++)
            {
                if (done[r]) { next[r] = _pad; continue; }
                outputs[r].Add((int)next[r]);
                if (_eos.Contains((int)next[r])) done[r] = true;
            }
            if (done.All(d => d) || step == maxNewTokens - 1) break;
            // Next step: one token per row at the row's next position; finished rows feed pad (ignored).
            stepLen = 1;
            ids = next;
            pos = nextPos.ToArray();
            for (int r = 0; r < b; r++) { nextPos[r]++; mask[r].Add(1); }
        }
        return outputs.Select(o => o.ToArray()).ToArray();
    }
}
