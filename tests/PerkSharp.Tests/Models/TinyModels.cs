using System.Text.Json.Nodes;
using PerkSharp.Adapters;
using PerkSharp.Models;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Models;

/// <summary>Tiny random configs of the three architectures, and helpers shared by the model tests.</summary>
internal static class TinyModels
{
    public const int Vocab = 61;

    public static IEnumerable<object[]> Architectures => new[] { new object[] { "gpt2" }, new object[] { "qwen2" }, new object[] { "llama" } };

    /// <summary>initializer_range 0.2 (not 0.02) so that greedy choices are well separated in random models.</summary>
    public static ModelConfig Config(string arch, int layers = 2) => arch switch
    {
        "gpt2" => ModelConfig.FromJson(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = Vocab, ["n_embd"] = 32, ["n_layer"] = layers, ["n_head"] = 4,
            ["n_positions"] = 64, ["initializer_range"] = 0.2, ["eos_token_id"] = 60,
        }),
        "qwen2" => ModelConfig.FromJson(new JsonObject
        {
            ["model_type"] = "qwen2", ["vocab_size"] = Vocab, ["hidden_size"] = 32, ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["intermediate_size"] = 48,
            ["max_position_embeddings"] = 128, ["rope_theta"] = 1000000.0, ["tie_word_embeddings"] = true,
            ["initializer_range"] = 0.2, ["eos_token_id"] = 60,
        }),
        "llama" => ModelConfig.FromJson(new JsonObject
        {
            ["model_type"] = "llama", ["vocab_size"] = Vocab, ["hidden_size"] = 32, ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 1, ["intermediate_size"] = 40,
            ["max_position_embeddings"] = 128, ["rope_theta"] = 500000.0, ["tie_word_embeddings"] = false,
            ["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0,
                ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 32 },
            ["initializer_range"] = 0.2, ["eos_token_id"] = 60,
        }),
        _ => throw new ArgumentException(arch),
    };

    public static CausalLM Create(string arch, int layers = 2, ScalarType dtype = ScalarType.Float32, long seed = 1)
    {
        TorchRuntime.Initialize();
        return ModelFactory.Create(Config(arch, layers), dtype, seed);
    }

    /// <summary>Same shape and bitwise-equal values.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, rows[0].Length });

    public static long[] RandomIds(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (long)rng.Next(0, Vocab - 1)).ToArray();

    /// <summary>A LoRA state on every target (rank r) with random A and B of the given scale, in the model dtype.</summary>
    public static LoraState RandomLora(CausalLM model, int rank, double scaleB, long seed, ScalarType dtype, bool requiresGrad = false, int? onlyLayer = null)
    {
        using var gen = new Generator((ulong)seed, CPU);
        var a = new List<Tensor?>();
        var b = new List<Tensor?>();
        foreach (var t in model.LoraTargets)
        {
            if (onlyLayer is int l && t.Layer != l) { a.Add(null); b.Add(null); continue; }
            var ta = randn(new long[] { rank, t.InFeatures }, generator: gen).mul(0.3).to(dtype);
            var tb = randn(new long[] { t.OutFeatures, rank }, generator: gen).mul(scaleB).to(dtype);
            a.Add(ta.requires_grad_(requiresGrad));
            b.Add(tb.requires_grad_(requiresGrad));
        }
        return new LoraState(a, b, scale: 2.0);
    }
}
