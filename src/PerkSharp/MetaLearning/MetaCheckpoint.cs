using PerkSharp.IO;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>
/// Saves and loads the whole meta-learned state (LoRA init, LSLR, weighting model) as one safetensors file keyed by
/// <see cref="MetaParameters"/>' parameter names ("lora.A0", "lslr.lr0", "weighting.fc1.weight", ...), plus the PEFT
/// name of every LoRA tensor in the metadata so that a layout mismatch is reported by name. Writes are atomic; a
/// checkpoint never contains NaN or Inf.
/// </summary>
public static class MetaCheckpoint
{
    const string LayoutKey = "perk_lora_tensors";

    public static void Save(MetaParameters meta, string path)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, p) in meta.named_parameters())
        {
            if (!p.isfinite().all().ToBoolean()) throw new PerkException($"{path}: refusing to save \"{name}\": it contains NaN or Inf");
            tensors[name] = p.detach();
        }
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [LayoutKey] = string.Join(",", meta.Lora.TensorNames),
            ["perk_rank"] = meta.Lora.Options.Rank.ToString(),
            ["perk_inner_steps"] = meta.StepSizes.InnerSteps.ToString(),
        };
        Safetensors.Save(path, tensors, metadata);
    }

    /// <summary>Copies a saved state into <paramref name="meta"/> (same layout required; dtype converted).</summary>
    public static void Load(MetaParameters meta, string path)
    {
        if (!File.Exists(path)) throw new PerkException($"{path}: meta-parameter checkpoint not found");
        var header = Safetensors.ReadHeader(path);
        if (header.Metadata.TryGetValue(LayoutKey, out var layout) && layout != string.Join(",", meta.Lora.TensorNames))
            throw new PerkException($"{path}: LoRA layout differs from the model's (other targets, layers or model)");
        var loaded = Safetensors.Load(path);
        try
        {
            var named = meta.named_parameters().ToList();
            foreach (var (name, p) in named)
            {
                if (!loaded.TryGetValue(name, out var t)) throw new PerkException($"{path}: missing tensor \"{name}\"");
                if (!t.shape.SequenceEqual(p.shape))
                    throw new PerkException($"{path}: tensor \"{name}\" has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", p.shape)}]");
                if (!t.isfinite().all().ToBoolean()) throw new PerkException($"{path}: tensor \"{name}\" contains NaN or Inf");
            }
            var extra = loaded.Keys.Except(named.Select(n => n.name)).FirstOrDefault();
            if (extra != null) throw new PerkException($"{path}: unexpected tensor \"{extra}\" (different settings: weighting model or step sizes?)");
            using var _ = no_grad();
            foreach (var (name, p) in named) p.copy_(loaded[name]);
        }
        finally { foreach (var t in loaded.Values) t.Dispose(); }
    }
}
