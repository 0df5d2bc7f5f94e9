using PerkSharp.Models.Gpt2;
using PerkSharp.Models.Layers;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Models;

/// <summary>Builds the causal LM a <see cref="ModelConfig"/> describes, randomly initialised like HF.</summary>
public static class ModelFactory
{
    /// <summary>
    /// Creates GPT2LMHeadModel, Qwen2ForCausalLM or LlamaForCausalLM with HF's init: normal(0, initializer_range)
    /// weights (GPT-2 residual projections scaled by 1/√(2·n_layer)), zero biases, unit norm weights. A
    /// <paramref name="seed"/> makes the weights deterministic. All parameters are frozen (requires_grad = false).
    /// </summary>
    public static CausalLM Create(ModelConfig config, ScalarType dtype = ScalarType.Float32, long? seed = null)
    {
        config.Validate();
        using var init = new ParamInit(config, dtype, seed);
        using var _ = no_grad();
        CausalLM model = config.ModelType switch
        {
            "gpt2" => new GPT2LMHeadModel(init, config),
            "qwen2" => new Decoder.Qwen2ForCausalLM(init, config),
            "llama" => new Decoder.LlamaForCausalLM(init, config),
            _ => throw new PerkException($"model_type \"{config.ModelType}\" is not supported (expected gpt2, qwen2 or llama)"),
        };
        model.eval();
        return model;
    }
}
