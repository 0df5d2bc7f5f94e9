using static TorchSharp.torch;

namespace PerkSharp.Models;

/// <summary>
/// Per-layer key/value cache for greedy decoding: keys/values [B, kvHeads, Tpast, headDim] after RoPE.
/// Long-lived tensors: detached from dispose scopes on store, disposed by <see cref="Dispose"/>.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _k, _v;

    public KvCache(int layers) { _k = new Tensor?[layers]; _v = new Tensor?[layers]; }

    /// <summary>Number of decoder layers the cache holds.</summary>
    public int Layers => _k.Length;

    /// <summary>Tokens already cached (Tpast).</summary>
    public long Length => _k[0] is null ? 0 : _k[0]!.shape[2];

    /// <summary>Appends this step's keys/values for a layer and returns the full [B, kvH, Tpast+T, D] tensors.</summary>
    public (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        Tensor nk = _k[layer] is null ? k.alias() : cat(new[] { _k[layer]!, k }, 2);
        Tensor nv = _v[layer] is null ? v.alias() : cat(new[] { _v[layer]!, v }, 2);
        _k[layer]?.Dispose(); _v[layer]?.Dispose();
        _k[layer] = nk.DetachFromDisposeScope();
        _v[layer] = nv.DetachFromDisposeScope();
        return (nk, nv);
    }

    public void Dispose()
    {
        for (int i = 0; i < _k.Length; i++) { _k[i]?.Dispose(); _v[i]?.Dispose(); _k[i] = _v[i] = null; }
    }
}
