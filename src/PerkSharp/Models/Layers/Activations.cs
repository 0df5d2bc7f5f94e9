using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Models.Layers;

/// <summary>HF ACT2FN names used by GPT-2, Qwen2 and Llama configs.</summary>
internal static class Activations
{
    static readonly string[] Known = { "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "relu", "silu", "swish" };

    public static void Check(string name)
    {
        if (!Known.Contains(name))
            throw new PerkException($"config.json: activation \"{name}\" is not supported (supported: {string.Join(", ", Known)})");
    }

    public static Tensor Apply(string name, Tensor x) => name switch
    {
        // gelu_new = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the tanh approximation libtorch implements natively.
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "gelu" => nn.functional.gelu(x),
        "relu" => nn.functional.relu(x),
        "silu" or "swish" => nn.functional.silu(x),
        _ => throw new PerkException($"activation \"{name}\" is not supported"),
    };
}
