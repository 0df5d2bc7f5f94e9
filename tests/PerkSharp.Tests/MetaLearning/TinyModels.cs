using System.Text.Json.Nodes;
using PerkSharp.Adapters;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>Tiny random GPT-2 / Qwen2 models (byte vocabulary of 257, end-of-text 256) and matching PERK settings.</summary>
internal static class TinyModels
{
    public static ModelConfig Gpt2Config() => ModelConfig.FromJson(new JsonObject
    {
        ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 4,
        ["n_positions"] = 128, ["bos_token_id"] = 256, ["eos_token_id"] = 256,
    });

    public static ModelConfig Qwen2Config() => ModelConfig.FromJson(new JsonObject
    {
        ["model_type"] = "qwen2", ["vocab_size"] = 257, ["hidden_size"] = 32, ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["intermediate_size"] = 48,
        ["max_position_embeddings"] = 128, ["eos_token_id"] = 256, ["tie_word_embeddings"] = true,
    });

    public static CausalLM Create(ModelConfig config, ScalarType dtype = ScalarType.Float64, long seed = 11) =>
        ModelFactory.Create(config, dtype, seed);

    /// <summary>The gradient-check settings with optional overrides.</summary>
    public static PerkSettings Settings(ModelConfig config, Func<PerkSettings, PerkSettings>? edit = null)
    {
        var s = GradientCheckProblem.Settings(config);
        return edit is null ? s : edit(s);
    }
}
