using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;
#pragma warning disable IDE1006 // fields are named like the HF checkpoint keys

namespace PerkSharp.Models.Layers;

/// <summary>Token/position embedding table [num, dim]; lookup by index_select (ids validated by the caller).</summary>
public sealed class Embedding : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight; // [num, dim]

    internal Embedding(ParamInit init, long num, long dim, int? paddingIdx = null) : base(nameof(Embedding))
    {
        weight = init.Normal(init.Std, num, dim);
        // HF zeroes the padding row at init (nn.Embedding padding_idx).
        if (paddingIdx is int p && p >= 0 && p < num) using (no_grad()) weight[p].zero_();
        RegisterComponents();
    }

    /// <summary>ids: [B, T] int64 -> [B, T, dim].</summary>
    public override Tensor forward(Tensor ids)
    {
        using var flat = ids.reshape(-1);
        using var rows = weight.index_select(0, flat);
        return rows.view(ids.shape[0], ids.shape[1], weight.shape[1]);
    }
}
