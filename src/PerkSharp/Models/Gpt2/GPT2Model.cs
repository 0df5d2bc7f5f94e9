using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Gpt2;

/// <summary>HF GPT2Model ("transformer"): wte + wpe (learned positions), blocks h.{i}, final ln_f.</summary>
public sealed class GPT2Model : nn.Module<Tensor, Tensor>
{
    public readonly Embedding wte;
    public readonly Embedding wpe;
    public readonly TorchSharp.Modules.ModuleList<GPT2Block> h;
    public readonly LayerNorm ln_f;

    internal GPT2Model(ParamInit init, ModelConfig cfg) : base(nameof(GPT2Model))
    {
        wte = new Embedding(init, cfg.VocabSize, cfg.HiddenSize);
        wpe = new Embedding(init, cfg.MaxPositionEmbeddings, cfg.HiddenSize);
        h = nn.ModuleList(Enumerable.Range(0, cfg.NumHiddenLayers).Select(i => new GPT2Block(init, cfg, i)).ToArray());
        ln_f = new LayerNorm(init, cfg.HiddenSize, cfg.LayerNormEpsilon);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(ctx)");

    /// <summary>Returns the last hidden state after ln_f, [B, T, H].</summary>
    internal Tensor Forward(ForwardContext ctx)
    {
        using var tok = wte.forward(ctx.InputIds);
        using var pos = wpe.forward(ctx.PositionIds);
        var x = tok.add(pos);
        foreach (var block in h)
        {
            var next = block.Forward(x, ctx);
            x.Dispose();      // the autograd graph keeps what backward needs
            x = next;
        }
        var y = ln_f.forward(x);
        x.Dispose();
        return y;
    }
}
