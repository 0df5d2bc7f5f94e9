using PerkSharp.Models;

namespace PerkSharp.Benchmarks;

/// <summary>One base projection of a decoder layer: y = x·Wᵀ with W [Out, In] (2·In·Out FLOPs per token).</summary>
/// <param name="Name">HF module name inside the layer (c_attn, q_proj, ...).</param>
/// <param name="ReadsLayerInput">
/// True when the projection reads the (normed) layer input directly (q/k/v, c_attn). In the first adapted layer that
/// input does not depend on any trainable tensor, so autograd computes no input gradient for it.
/// </param>
public sealed record Projection(string Name, long In, long Out, bool ReadsLayerInput, bool LoraTarget);

/// <summary>
/// The shapes of a decoder-only transformer that the FLOP model needs (no weights). GPT-2: c_attn [d, 3d], c_proj [d, d],
/// c_fc [d, f], mlp.c_proj [f, d]; Qwen2/Llama: q/k/v/o + gate/up/down (gated MLP). All projections are LoRA targets
/// of the official PERK configs (docs/DESIGN.md).
/// </summary>
public sealed record TransformerShape(
    string Name, int Layers, int Hidden, int Heads, int KvHeads, int HeadDim, int Intermediate, int Vocab, bool Gpt2Style)
{
    /// <summary>Width of the hidden state the weighting MLP (hidden -> 128 -> 1) reads.</summary>
    public const int WeightingHidden = 128;

    public static TransformerShape FromConfig(ModelConfig c, string? name = null) =>
        new(name ?? c.ModelType, c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim,
            c.IntermediateSize, c.VocabSize, c.IsGpt2);

    /// <summary>GPT-2 small (124M): 12 layers, 768 hidden, 12 heads, 3072 MLP, 50257 vocabulary.</summary>
    public static TransformerShape Gpt2Small(int layers = 12) => new("gpt2-small", layers, 768, 12, 12, 64, 3072, 50257, true);

    public long QDim => (long)Heads * HeadDim;
    public long KvDim => (long)KvHeads * HeadDim;

    /// <summary>The base projections of one layer in forward order.</summary>
    public IReadOnlyList<Projection> LayerProjections()
    {
        long d = Hidden, f = Intermediate;
        if (Gpt2Style)
            return new[]
            {
                new Projection("c_attn", d, 3 * d, true, true),
                new Projection("attn.c_proj", d, d, false, true),
                new Projection("c_fc", d, f, false, true),
                new Projection("mlp.c_proj", f, d, false, true),
            };
        return new[]
        {
            new Projection("q_proj", d, QDim, true, true),
            new Projection("k_proj", d, KvDim, true, true),
            new Projection("v_proj", d, KvDim, true, true),
            new Projection("o_proj", QDim, d, false, true),
            new Projection("gate_proj", d, f, false, true),
            new Projection("up_proj", d, f, false, true),
            new Projection("down_proj", f, d, false, true),
        };
    }

    /// <summary>Σ in·out over one layer's projections (= its matmul weight count).</summary>
    public long LayerMatmulParams => LayerProjections().Sum(p => p.In * p.Out);

    public override string ToString() =>
        $"{Name}: {Layers} layers, hidden {Hidden}, {Heads} heads x {HeadDim}, kv {KvHeads}, ffn {Intermediate}, vocab {Vocab}";
}
