using System.Text.Json.Nodes;
using PerkSharp.Runtime;

namespace PerkSharp.IO;

/// <summary>
/// The weight files of an HF model folder: <c>model.safetensors</c>, or the shards named by
/// <c>model.safetensors.index.json</c> ("weight_map": tensor -> shard file). Only headers are read here; every
/// tensor name maps to the one file holding it.
/// </summary>
public sealed class CheckpointFiles
{
    public const string Single = "model.safetensors";
    public const string Index = "model.safetensors.index.json";

    /// <summary>Tensor name -> (header of its file, entry).</summary>
    public required IReadOnlyDictionary<string, (SafetensorsHeader File, SafetensorsEntry Entry)> Tensors { get; init; }
    public required IReadOnlyList<SafetensorsHeader> Files { get; init; }
    /// <summary>What to name in errors: the single file or the index.</summary>
    public required string Source { get; init; }

    public static CheckpointFiles Open(string dir)
    {
        string single = Path.Combine(dir, Single), index = Path.Combine(dir, Index);
        if (Directory.Exists(single)) throw new PerkException($"{single}: is a folder; expected a safetensors file");
        if (File.Exists(single)) return FromHeaders(new[] { SafetensorsHeader.Read(single) }, single, null);
        if (File.Exists(index)) return FromIndex(dir, index);
        throw new PerkException($"{dir}: no {Single} or {Index} (only safetensors checkpoints are supported)");
    }

    static CheckpointFiles FromIndex(string dir, string index)
    {
        JsonObject root;
        try { root = JsonNode.Parse(File.ReadAllText(index)) as JsonObject ?? throw new PerkException($"{index}: expected a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw new PerkException($"{index}: invalid JSON ({e.Message.Split('\n')[0]})"); }
        if (root["weight_map"] is not JsonObject map || map.Count == 0)
            throw new PerkException($"{index}: missing or empty \"weight_map\"");
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, node) in map)
        {
            if (node is not JsonValue v || !v.TryGetValue<string>(out var file) || file.Length == 0)
                throw new PerkException($"{index}: weight_map entry \"{name}\" must name a shard file");
            // A shard is a plain file name inside the folder: no directories, no "..", no absolute paths.
            if (file != Path.GetFileName(file) || file is "." or ".." || file.Contains('/') || file.Contains('\\'))
                throw new PerkException($"{index}: weight_map entry \"{name}\" names \"{file}\", which is not a file in the model folder");
            weightMap[name] = file;
        }
        var headers = new List<SafetensorsHeader>();
        foreach (var file in weightMap.Values.Distinct().OrderBy(f => f, StringComparer.Ordinal))
        {
            string path = Path.Combine(dir, file);
            if (!File.Exists(path)) throw new PerkException($"{index}: shard \"{file}\" is listed but missing");
            headers.Add(SafetensorsHeader.Read(path));
        }
        return FromHeaders(headers, index, weightMap);
    }

    static CheckpointFiles FromHeaders(IReadOnlyList<SafetensorsHeader> headers, string source, Dictionary<string, string>? weightMap)
    {
        var tensors = new Dictionary<string, (SafetensorsHeader, SafetensorsEntry)>(StringComparer.Ordinal);
        foreach (var h in headers)
            foreach (var e in h.Tensors)
            {
                if (tensors.TryGetValue(e.Name, out var other))
                    throw new PerkException($"{source}: tensor \"{e.Name}\" is stored twice ({Path.GetFileName(other.Item1.Path)} and {Path.GetFileName(h.Path)})");
                if (weightMap != null && weightMap.TryGetValue(e.Name, out var file) && file != Path.GetFileName(h.Path))
                    throw new PerkException($"{source}: tensor \"{e.Name}\" is mapped to {file} but stored in {Path.GetFileName(h.Path)}");
                tensors[e.Name] = (h, e);
            }
        if (weightMap != null)
            foreach (var (name, file) in weightMap)
                if (!tensors.ContainsKey(name))
                    throw new PerkException($"{source}: tensor \"{name}\" is mapped to {file} but that shard does not contain it");
        return new CheckpointFiles { Tensors = tensors, Files = headers, Source = source };
    }
}
