using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using PerkSharp.Models.Layers;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Decoder;

/// <summary>HF Qwen2Model / LlamaModel ("model"): embed_tokens, layers.{i}, final norm; rotary cos/sin per forward.</summary>
public sealed class DecoderModel : nn.Module<Tensor, Tensor>
{
    public readonly Embedding embed_tokens;
    public readonly TorchSharp.Modules.ModuleList<DecoderLayer> layers;
    public readonly RMSNorm norm;
    readonly RotaryEmbedding _rotary;  // not a Module: no checkpoint tensor

    internal DecoderModel(ParamInit init, ModelConfig cfg) : base(nameof(DecoderModel))
    {
        embed_tokens = new Embedding(init, cfg.VocabSize, cfg.HiddenSize, cfg.PadTokenId);
        layers = nn.ModuleList(Enumerable.Range(0, cfg.NumHiddenLayers).Select(i => new DecoderLayer(init, cfg, i)).ToArray());
        norm = new RMSNorm(init, cfg.HiddenSize, cfg.RmsNormEps);
        _rotary = new RotaryEmbedding(cfg);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(ctx)");

    /// <summary>Returns the last hidden state after the final norm, [B, T, H].</summary>
    internal Tensor Forward(ForwardContext ctx)
    {
        var x = embed_tokens.forward(ctx.InputIds);
        (ctx.Cos, ctx.Sin) = _rotary.CosSin(ctx.PositionIds, x.dtype);
        foreach (var layer in layers)
        {
            var next = layer.Forward(x, ctx);
            x.Dispose();      // the autograd graph keeps what backward needs
            x = next;
        }
        var y = norm.forward(x);
        x.Dispose();
        return y;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _rotary.Dispose();
        base.Dispose(disposing);
    }
}
