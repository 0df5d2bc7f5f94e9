using PerkSharp.Adapters;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Models;

/// <summary>
/// Everything the layers of one forward pass share: the validated inputs, position ids [B, T], the attention mask
/// (built once), the LoRA state, the KV cache and the attention path. Bad input is rejected here, before any
/// TorchSharp op runs on it (a libtorch error inside autograd.grad aborts the process).
/// </summary>
internal sealed class ForwardContext : IDisposable
{
    public required Tensor InputIds { get; init; }          // [B, T] int64
    public required Tensor PositionIds { get; init; }       // [B, T] int64
    public required AttentionMask Mask { get; init; }
    public required bool Fused { get; init; }
    public LoraState? Lora { get; init; }
    public KvCache? Cache { get; init; }
    public long TPast { get; init; }
    public long Batch => InputIds.shape[0];
    public long Length => InputIds.shape[1];

    /// <summary>Rotary cos/sin [B, 1, T, D] in the compute dtype (Qwen2/Llama only).</summary>
    public Tensor? Cos { get; set; }
    public Tensor? Sin { get; set; }

    /// <summary>Applies LoRA target <paramref name="index"/> (if any) to a base projection output.</summary>
    public Tensor Adapt(int index, Tensor x, Tensor baseOut) => Lora is null ? baseOut : Lora.Apply(index, x, baseOut);

    public static ForwardContext Create(CausalLM model, LMInput input)
    {
        var cfg = model.Config;
        var ids = input.InputIds;
        if (ids.ndim != 2 || ids.shape[0] < 1 || ids.shape[1] < 1)
            throw new PerkException($"input_ids must be [batch, length] with both >= 1 (got [{string.Join(", ", ids.shape)}])");
        if (ids.dtype != ScalarType.Int64) throw new PerkException($"input_ids must be int64 (got {ids.dtype})");
        long b = ids.shape[0], t = ids.shape[1];
        long lo = ids.min().item<long>(), hi = ids.max().item<long>();
        if (lo < 0 || hi >= cfg.VocabSize)
            throw new PerkException($"input_ids: token id {(lo < 0 ? lo : hi)} is outside the vocabulary (size {cfg.VocabSize})");

        long tPast = input.Cache?.Length ?? 0;
        if (input.Cache is { } c && c.Layers != model.NumLayers)
            throw new PerkException($"KV cache has {c.Layers} layers, the model {model.NumLayers}");

        Tensor pos;
        if (input.PositionIds is { } p)
        {
            if (p.ndim != 2 || p.shape[0] != b || p.shape[1] != t)
                throw new PerkException($"position_ids must be [{b}, {t}] like input_ids (got [{string.Join(", ", p.shape)}])");
            if (p.dtype != ScalarType.Int64) throw new PerkException($"position_ids must be int64 (got {p.dtype})");
            long pmin = p.min().item<long>(), pmax = p.max().item<long>();
            if (pmin < 0) throw new PerkException($"position_ids: position {pmin} is negative");
            if (cfg.IsGpt2 && pmax >= cfg.MaxPositionEmbeddings)
                throw new PerkException($"position_ids: position {pmax} is beyond n_positions ({cfg.MaxPositionEmbeddings})");
            pos = p.alias();
        }
        else
        {
            if (cfg.IsGpt2 && tPast + t > cfg.MaxPositionEmbeddings)
                throw new PerkException($"sequence of {tPast + t} tokens is longer than n_positions ({cfg.MaxPositionEmbeddings})");
            using var r = arange(tPast, tPast + t, dtype: ScalarType.Int64);
            pos = r.unsqueeze(0).expand(b, t);
        }

        Tensor? segments = null;
        if (input.AttentionMask is { } m)
        {
            if (m.ndim != 2 || m.shape[0] != b || m.shape[1] != tPast + t)
                throw new PerkException($"attention_mask must be [{b}, {tPast + t}] (batch, cached + new tokens) (got [{string.Join(", ", m.shape)}])");
            if (m.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool))
                throw new PerkException($"attention_mask must hold integer segment ids (got {m.dtype})");
            segments = m.to(ScalarType.Int64);
            if (segments.min().item<long>() < 0) { segments.Dispose(); pos.Dispose(); throw new PerkException("attention_mask: segment ids must be >= 0"); }
        }

        if (input.Lora is { } lora) CheckLora(model, lora, b);

        bool fused = input.AllowFusedAttention;
        var mask = AttentionMask.Build(segments, tPast, t, fused);
        segments?.Dispose();
        return new ForwardContext
        {
            InputIds = ids, PositionIds = pos, Mask = mask, Fused = fused, Lora = input.Lora, Cache = input.Cache, TPast = tPast,
        };
    }

    /// <summary>LoRA shapes must match the targets: A [r, in], B [out, r] (a mismatch inside autograd.grad would abort).</summary>
    static void CheckLora(CausalLM model, LoraState lora, long batch)
    {
        var targets = model.LoraTargets;
        if (lora.A.Count != targets.Count)
            throw new PerkException($"LoRA state has {lora.A.Count} entries, the model has {targets.Count} LoRA targets");
        long examples = lora.Examples;
        if (batch % examples != 0)
            throw new PerkException($"LoRA state holds {examples} examples' fast weights but the batch has {batch} rows (must be a multiple)");
        for (int i = 0; i < targets.Count; i++)
        {
            var (a, bm, tg) = (lora.A[i], lora.B[i], targets[i]);
            if (a is null || bm is null) continue;
            if (!LoraShapeOk(a, bm, tg, examples))
                throw new PerkException($"LoRA {tg.Name}: expected A [(E,) r, {tg.InFeatures}] and B [(E,) {tg.OutFeatures}, r] " +
                                        $"(got A [{string.Join(", ", a.shape)}], B [{string.Join(", ", bm.shape)}])");
        }
    }

    /// <summary>A [r, in] and B [out, r], or both with a leading example axis E.</summary>
    static bool LoraShapeOk(Tensor a, Tensor b, LoraTarget tg, long examples)
    {
        if (a.ndim != b.ndim) return false;
        int o = a.ndim == 3 ? 1 : 0;
        if (o == 1 && (a.shape[0] != examples || b.shape[0] != examples)) return false;
        return a.ndim == 2 + o && a.shape[o + 1] == tg.InFeatures && b.shape[o] == tg.OutFeatures && a.shape[o] == b.shape[o + 1];
    }

    public void Dispose() { PositionIds.Dispose(); Mask.Dispose(); Cos?.Dispose(); Sin?.Dispose(); }
}
