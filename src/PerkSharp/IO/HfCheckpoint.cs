using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.IO;

/// <summary>A model loaded from an HF folder, with its tokenizer. Disposing it disposes the model.</summary>
public sealed record LoadedModel(CausalLM Model, ITokenizer Tokenizer, string Directory, ModelConfig Config) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Hugging Face checkpoint folders: config.json + model.safetensors (or sharded index) + tokenizer files.
/// Loading maps the file's tensors strictly onto the model's state dict (a missing, unexpected or mis-shaped tensor is
/// an error naming it) after checking every header, then copies the values into the model's existing frozen
/// parameters. Saving writes what HF transformers' save_pretrained writes (tied lm_head omitted, GPT-2 keys with
/// the "transformer." prefix), each file atomically, config.json last.
/// </summary>
public static class HfCheckpoint
{
    // Non-persistent buffers some HF exports carry: GPT-2's causal-mask buffers and rotary inverse frequencies.
    static readonly Regex IgnoredKey = new(@"(^|\.)(h\.\d+\.attn\.(bias|masked_bias)|rotary_emb\.inv_freq)$", RegexOptions.Compiled);

    /// <summary>Loads config, weights (converted to <paramref name="dtype"/>, default float32) and tokenizer of <paramref name="dir"/>.</summary>
    public static LoadedModel Load(string dir, ScalarType? dtype = null)
    {
        if (!System.IO.Directory.Exists(dir)) throw new PerkException($"{dir}: model folder not found");
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        var tokenizer = TokenizerLoader.Load(dir, config);
        var files = CheckpointFiles.Open(dir);     // headers only, fully validated
        // Strict mapping overwrites every tensor, so skip the random draw (a third of the load time for 124M).
        var model = ModelFactory.CreateForLoading(config, dtype ?? ScalarType.Float32);
        try
        {
            LoadWeights(model, files);
            return new LoadedModel(model, tokenizer, dir, config);
        }
        catch { model.Dispose(); throw; }
    }

    /// <summary>Copies the checkpoint's tensors into <paramref name="model"/>'s parameters (strict; values converted to the model dtype).</summary>
    public static void LoadWeights(CausalLM model, CheckpointFiles files)
    {
        var target = model.state_dict();
        var mapped = MapKeys(model.Config, files, target);
        string? tiedHead = files.Tensors.ContainsKey("lm_head.weight") && !target.ContainsKey("lm_head.weight") ? "lm_head.weight" : null;

        using var _ = torch.no_grad();
        foreach (var group in mapped.GroupBy(kv => files.Tensors[kv.Value].File.Path))
        {
            var wanted = group.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);   // file key -> model key
            var loaded = Safetensors.Load(group.Key, wanted.ContainsKey);
            try { foreach (var (fileKey, t) in loaded) target[wanted[fileKey]].copy_(t); }
            finally { foreach (var t in loaded.Values) t.Dispose(); }
        }
        if (tiedHead != null) CheckTiedHead(model, files);
    }

    /// <summary>Model key -> file key, after the strict check of names, shapes and dtypes.</summary>
    static Dictionary<string, string> MapKeys(ModelConfig config, CheckpointFiles files, IDictionary<string, Tensor> target)
    {
        var mapped = new Dictionary<string, string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (var fileKey in files.Tensors.Keys)
        {
            if (IgnoredKey.IsMatch(fileKey)) continue;
            string key = config.IsGpt2 && !fileKey.StartsWith("transformer.", StringComparison.Ordinal) && fileKey != "lm_head.weight"
                ? "transformer." + fileKey : fileKey;
            if (key == "lm_head.weight" && !target.ContainsKey(key) && config.TieWordEmbeddings) continue;   // tied: checked after loading
            if (!target.ContainsKey(key)) { unexpected.Add(fileKey); continue; }
            if (mapped.TryGetValue(key, out var other))
                throw new PerkException($"{files.Source}: tensors \"{other}\" and \"{fileKey}\" both map to \"{key}\"");
            mapped[key] = fileKey;
        }
        var missing = target.Keys.Where(k => !mapped.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new PerkException($"{files.Source}: missing tensor {List(missing)} (expected shape [{string.Join(", ", target[missing[0]].shape)}])" +
                                    $" for {config.ModelType} with {config.NumHiddenLayers} layers");
        if (unexpected.Count > 0)
            throw new PerkException($"{files.Source}: unexpected tensor {List(unexpected)} (not a parameter of this {config.ModelType} model)");
        foreach (var (key, fileKey) in mapped)
        {
            var e = files.Tensors[fileKey].Entry;
            var want = target[key];
            if (!e.Shape.SequenceEqual(want.shape))
                throw new PerkException($"{files.Source}: tensor \"{fileKey}\" has shape [{string.Join(", ", e.Shape)}], expected [{string.Join(", ", want.shape)}]");
            if (want.is_floating_point() && e.ScalarType is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
                throw new PerkException($"{files.Source}: tensor \"{fileKey}\" has dtype {e.DType}, expected a floating-point type (F32, F16, BF16)");
        }
        return mapped;
    }

    static string List(List<string> names) =>
        "\"" + names[0] + "\"" + (names.Count > 1 ? $" (and {names.Count - 1} more: {string.Join(", ", names.Skip(1).Take(3))}{(names.Count > 4 ? ", ..." : "")})" : "");

    /// <summary>A checkpoint's lm_head.weight of a tied model must equal the embedding it is tied to.</summary>
    static void CheckTiedHead(CausalLM model, CheckpointFiles files)
    {
        var (h, e) = files.Tensors["lm_head.weight"];
        string embKey = model.Config.IsGpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
        var emb = model.state_dict()[embKey];
        if (!e.Shape.SequenceEqual(emb.shape))
            throw new PerkException($"{files.Source}: tensor \"lm_head.weight\" has shape [{string.Join(", ", e.Shape)}], expected [{string.Join(", ", emb.shape)}] (tied to {embKey})");
        var head = Safetensors.Load(h.Path, k => k == "lm_head.weight");
        using var t = head["lm_head.weight"];
        using var asModel = t.to(emb.dtype);
        if (!asModel.eq(emb).all().item<bool>())
            throw new PerkException($"{files.Source}: tensor \"lm_head.weight\" differs from {embKey} but config.json ties them (set \"tie_word_embeddings\": false for a separate head)");
    }

    /// <summary>Every file <see cref="Save"/> may write (the tokenizer files of both tokenizer kinds).</summary>
    public static readonly IReadOnlyList<string> SavedFiles = new[]
    {
        "config.json", CheckpointFiles.Single, "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
    };

    /// <summary>
    /// Writes config.json, model.safetensors (model dtype, {"format": "pt"}) and the tokenizer files into
    /// <paramref name="dir"/>. Refuses to write a checkpoint containing NaN or Inf.
    /// </summary>
    public static void Save(string dir, CausalLM model, ITokenizer tokenizer)
    {
        var state = model.state_dict();
        foreach (var (name, t) in state)
            if (t.is_floating_point() && !t.isfinite().all().item<bool>())
                throw new PerkException($"{dir}: tensor \"{name}\" contains NaN or Inf; the checkpoint was not written");
        var dtypes = state.Values.Select(t => t.dtype).Distinct().ToList();
        // Clone through text so the written config is the model's, with torch_dtype naming the stored precision.
        var json = (JsonObject)JsonNode.Parse(model.Config.ToJson().ToJsonString())!;
        json["torch_dtype"] = dtypes.Count == 1 ? DTypeName(dtypes[0]) : "float32";
        var config = ModelConfig.FromJson(json);
        System.IO.Directory.CreateDirectory(dir);
        Safetensors.Save(Path.Combine(dir, CheckpointFiles.Single), state, new Dictionary<string, string> { ["format"] = "pt" });
        tokenizer.Save(dir);
        config.Save(Path.Combine(dir, "config.json"));
    }

    public static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", ScalarType.Float64 => "float64", _ => "float32",
    };

    /// <summary>Parses a --dtype value (float32 | bfloat16 | float16).</summary>
    public static ScalarType ParseDType(string s) => s.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "f16" => ScalarType.Float16,
        _ => throw new PerkException($"dtype \"{s}\" is not supported (expected float32, bfloat16 or float16)"),
    };
}
