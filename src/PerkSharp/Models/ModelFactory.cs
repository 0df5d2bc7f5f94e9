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
    public static CausalLM Create(ModelConfig config, ScalarType dtype = ScalarType.Float32, long? seed = null) =>
        Build(config, new ParamInit(config, dtype, seed));

    /// <summary>
    /// The same model with uninitialised weight matrices (norms 1, biases 0): for loaders that overwrite every tensor
    /// right away, skipping the random draw (about 4 s for a 124M model on 2 cores).
    /// </summary>
    public static CausalLM CreateForLoading(ModelConfig config, ScalarType dtype = ScalarType.Float32) =>
        Build(config, new ParamInit(config, dtype, null, random: false));

    static CausalLM Build(ModelConfig config, ParamInit paramInit)
    {
        using var init = paramInit;
        config.Validate();
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
