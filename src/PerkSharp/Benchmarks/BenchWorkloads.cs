using System.Diagnostics;
using PerkSharp.Adapters;
using PerkSharp.MetaLearning;
using PerkSharp.Models;

namespace PerkSharp.Benchmarks;

/// <summary>
/// Model shapes and synthetic inputs of the bench: random weights and random token ids (speed and memory do not
/// depend on the values), context = whole segments of <see cref="BenchOptions.SegmentLength"/> tokens whose first
/// 3 tokens are the loss-masked "doc_i:" prompt, as the PERK collator produces.
/// </summary>
public static class BenchWorkloads
{
    /// <summary>GPT-2 small widths (768 hidden, 12 heads, 3072 MLP, 50257 vocabulary) with the given depth and positions.</summary>
    public static ModelConfig Gpt2SmallConfig(int layers, int positions) => ModelConfig.FromJson(new()
    {
        ["model_type"] = "gpt2", ["vocab_size"] = 50257, ["n_embd"] = 768, ["n_layer"] = layers, ["n_head"] = 12,
        ["n_positions"] = positions, ["eos_token_id"] = 50256, ["bos_token_id"] = 50256,
    }, "gpt2-small-shaped config");

    /// <summary>A tiny GPT-2 (2 layers, hidden 64, 4 heads, vocabulary 512): unit-test scale.</summary>
    public static ModelConfig TinyConfig(int positions = 1024) => ModelConfig.FromJson(new()
    {
        ["model_type"] = "gpt2", ["vocab_size"] = 512, ["n_embd"] = 64, ["n_layer"] = 2, ["n_head"] = 4,
        ["n_positions"] = positions, ["eos_token_id"] = 511, ["bos_token_id"] = 511,
    }, "tiny config");

    public const int DocPromptTokens = 3;

    /// <summary>Context of <paramref name="tokens"/> tokens as whole segments (ids random, last id end-of-text).</summary>
    public static List<TokenizedSequence> Context(ModelConfig cfg, int tokens, int segmentLength, Random rng)
    {
        int segments = Math.Max(1, tokens / segmentLength);
        return Enumerable.Range(0, segments).Select(_ => new TokenizedSequence(Ids(cfg, segmentLength, rng), DocPromptTokens)).ToList();
    }

    /// <summary>The outer sequence: a prompt of <paramref name="prompt"/> tokens then an answer of <paramref name="answer"/>.</summary>
    public static TokenizedSequence Question(ModelConfig cfg, int prompt, int answer, Random rng) =>
        new(Ids(cfg, prompt + answer, rng), prompt);

    public static int[] Ids(ModelConfig cfg, int n, Random rng)
    {
        var ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = rng.Next(cfg.VocabSize - 1);
        ids[^1] = cfg.EosTokenId ?? cfg.VocabSize - 1;
        return ids;
    }

    /// <summary>PERK settings of the bench: official inner loop (N = 4, AdamW, LSLR, weighting), rank-r rsLoRA.</summary>
    public static PerkSettings Settings(int rank, InnerLoopMode mode, int unrollStart, int innerSteps = 4) => new()
    {
        Lora = new LoraOptions { Rank = rank, Alpha = 2 * rank },
        InnerSteps = innerSteps,
        Mode = mode,
        UnrollStart = unrollStart,
    };

    /// <summary>Median of the values (the bench's per-configuration statistic: robust to one disturbed repeat).</summary>
    public static double Median(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0) return double.NaN;
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>Wall seconds and process CPU seconds (all threads) taken by <paramref name="body"/>.</summary>
    public static (double Wall, double Cpu) Clock(Action body)
    {
        double cpu0 = CpuTime.Now;
        var sw = Stopwatch.StartNew();
        body();
        return (sw.Elapsed.TotalSeconds, CpuTime.Now - cpu0);
    }

}
