using System.Text.Json;
using PerkSharp.Models;
using PerkSharp.Runtime;

namespace PerkSharp.IO;

/// <summary>What <see cref="ModelFolderCheck.Check"/> found in a valid HF-format model folder.</summary>
public sealed record ModelFolderSummary(ModelConfig Config, IReadOnlyList<SafetensorsHeader> Shards)
{
    public int TensorCount => Shards.Sum(s => s.Tensors.Count);
}

/// <summary>
/// Validates an HF-format model folder without loading weights: the folder itself, config.json (via
/// <see cref="ModelConfig.Load"/>), and every safetensors header — a single <c>model.safetensors</c> or the shards of
/// <c>model.safetensors.index.json</c>, whose weight_map must point at files inside the folder that hold the named
/// tensors. Used by `perk check model` so that a bad folder fails in a second, before any long run.
/// </summary>
public static class ModelFolderCheck
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    public static ModelFolderSummary Check(string dir)
    {
        if (File.Exists(dir)) throw new PerkException($"{dir}: is a file; expected a model folder (config.json + model.safetensors)");
        if (!Directory.Exists(dir)) throw new PerkException($"{dir}: model folder not found");
        string cfgPath = Path.Combine(dir, "config.json");
        if (Directory.Exists(cfgPath)) throw new PerkException($"{cfgPath}: is a folder; expected the model's config.json file");
        if (!File.Exists(cfgPath)) throw new PerkException($"{dir}: config.json not found (not an HF-format model folder)");
        var config = ModelConfig.Load(cfgPath);
        return new ModelFolderSummary(config, Shards(dir));
    }

    /// <summary>Validated headers of every weight file of <paramref name="dir"/>.</summary>
    public static List<SafetensorsHeader> Shards(string dir)
    {
        string single = Path.Combine(dir, SingleFile), index = Path.Combine(dir, IndexFile);
        if (Directory.Exists(single)) throw new PerkException($"{single}: is a folder; expected a safetensors file");
        if (File.Exists(single)) return new List<SafetensorsHeader> { SafetensorsHeader.Read(single) };
        if (!File.Exists(index)) throw new PerkException($"{dir}: no {SingleFile} or {IndexFile} found");
        return ReadIndex(dir, index);
    }

    static List<SafetensorsHeader> ReadIndex(string dir, string index)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(index)); }
        catch (JsonException e) { throw new PerkException($"{index}: invalid JSON ({e.Message.Split('\n')[0]})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object ||
                !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new PerkException($"{index}: expected an object with a \"weight_map\" object (tensor name -> shard file)");
            var byShard = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(p.Value.GetString()))
                    throw new PerkException($"{index}: weight_map entry \"{p.Name}\" must be a shard file name (got {p.Value.GetRawText()})");
                string shard = p.Value.GetString()!;
                if (shard.Contains('/') || shard.Contains('\\') || shard is "." or "..")
                    throw new PerkException($"{index}: weight_map entry \"{p.Name}\" names \"{shard}\"; shards must be plain file names inside the model folder");
                if (!byShard.TryGetValue(shard, out var names)) byShard[shard] = names = new List<string>();
                names.Add(p.Name);
            }
            if (byShard.Count == 0) throw new PerkException($"{index}: \"weight_map\" is empty");
            var headers = new List<SafetensorsHeader>();
            foreach (var (shard, names) in byShard.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                string path = Path.Combine(dir, shard);
                if (!File.Exists(path)) throw new PerkException($"{index}: shard \"{shard}\" (tensor \"{names[0]}\") not found in {dir}");
                var h = SafetensorsHeader.Read(path);
                var present = h.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
                var missing = names.FirstOrDefault(n => !present.Contains(n));
                if (missing != null) throw new PerkException($"{index}: tensor \"{missing}\" is mapped to {shard}, which does not contain it");
                headers.Add(h);
            }
            return headers;
        }
    }
}
