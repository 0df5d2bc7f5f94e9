using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Adapters;
using PerkSharp.IO;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.MetaLearning;

/// <summary>
/// An encoded context: the adapted LoRA fast weights φ^(N) (detached, owned) and the number of documents the question
/// prompt must mention. Encode once, answer many questions with it; save it as a Hugging Face PEFT adapter
/// (adapter_config.json + adapter_model.safetensors with PEFT key names) and load it back.
/// </summary>
public sealed class PerkMemory : IDisposable
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    const string DocsKey = "perk_num_documents";
    const string BaseKey = "perk_base_fingerprint";

    /// <summary>A memory folder holds these two files and nothing else; only such a folder is ever replaced.</summary>
    public static readonly OutputKind Kind = new("memory", new[] { ConfigFile, WeightsFile });

    internal PerkMemory(LoraAdapter adapter, IReadOnlyList<Tensor> fastWeights, int numDocuments, IReadOnlyList<double> innerLosses)
    {
        Adapter = adapter;
        FastWeights = fastWeights.Select(t => t.detach().clone().DetachFromDisposeScope()).ToList();
        NumDocuments = numDocuments;
        InnerLosses = innerLosses;
    }

    /// <summary>The adapter layout (targets, rank, scale) the weights belong to.</summary>
    public LoraAdapter Adapter { get; }

    /// <summary>[A_0, B_0, A_1, B_1, ...] in the adapter's order.</summary>
    public IReadOnlyList<Tensor> FastWeights { get; }

    /// <summary>Number of context segments encoded ("You have memorized {n} documents.").</summary>
    public int NumDocuments { get; }

    /// <summary>Inner loss per adaptation step (empty for a loaded memory).</summary>
    public IReadOnlyList<double> InnerLosses { get; }

    /// <summary>
    /// <see cref="IO.WeightsFingerprint"/> of the base model the memory was encoded with: set by <see cref="Perk.Encode(string, int?)"/>
    /// and read back from a folder saved with one (null for memories of <see cref="PerkSystem.Encode"/> and foreign PEFT
    /// adapters). Fast weights only make sense on that base.
    /// </summary>
    public string? BaseFingerprint { get; private set; }

    /// <summary>The base model folder or name the memory was encoded on (adapter_config.json's base_model_name_or_path), if known.</summary>
    public string? BaseModelNameOrPath { get; private set; }

    /// <summary>Records the base model, so that <see cref="Save"/> without arguments writes what `perk encode` writes.</summary>
    internal void SetBase(string nameOrPath, string fingerprint) { BaseModelNameOrPath = nameOrPath; BaseFingerprint = fingerprint; }

    /// <summary>The LoRA state for decoding (dropout off).</summary>
    public LoraState State() => Adapter.State(FastWeights, training: false);

    /// <summary>
    /// Writes the memory as a PEFT LoRA adapter folder, atomically (the old folder survives a crash). An existing
    /// folder is replaced only when it is a memory and <paramref name="force"/> is set (<see cref="OutputGuard"/>).
    /// The base model name and fingerprint default to the ones the memory carries (<see cref="BaseModelNameOrPath"/>,
    /// <see cref="BaseFingerprint"/>), so a memory keeps its base through save and load.
    /// </summary>
    public void Save(string directory, string? baseModelNameOrPath = null, string? baseFingerprint = null, bool force = false)
    {
        OutputGuard.Folder(directory, Kind, force);
        baseModelNameOrPath ??= BaseModelNameOrPath ?? "";
        baseFingerprint ??= BaseFingerprint;
        var o = Adapter.Options;
        var targets = new JsonArray(Adapter.Selected.Select(i => Adapter.AllTargets[i].Name)
            .Select(n => n[(n.LastIndexOf('.') + 1)..]).Distinct().OrderBy(n => n, StringComparer.Ordinal)
            .Select(n => (JsonNode?)n).ToArray());
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["r"] = o.Rank,
            ["lora_alpha"] = o.Alpha,
            ["lora_dropout"] = o.Dropout,
            ["use_rslora"] = o.UseRsLora,
            ["fan_in_fan_out"] = Adapter.AllTargets[Adapter.Selected[0]].FanInFanOut,
            ["target_modules"] = targets,
            ["bias"] = "none",
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
        };
        if (o.TopKLayers is not null)
            config["layers_to_transform"] = new JsonArray(Adapter.Selected.Select(i => Adapter.AllTargets[i].Layer).Distinct()
                .OrderBy(l => l).Select(l => (JsonNode?)l).ToArray());
        var tensors = new Dictionary<string, Tensor>();
        for (int i = 0; i < FastWeights.Count; i++) tensors[Adapter.TensorNames[i]] = FastWeights[i];
        var meta = new Dictionary<string, string> { ["format"] = "pt", [DocsKey] = NumDocuments.ToString() };
        if (baseFingerprint != null) meta[BaseKey] = baseFingerprint;
        AtomicFile.WriteDirectory(directory, tmp =>
        {
            File.WriteAllText(Path.Combine(tmp, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            Safetensors.Save(Path.Combine(tmp, WeightsFile), tensors, meta);
        });
    }

    /// <summary>
    /// Loads a memory saved by <see cref="Save"/> (or any PEFT adapter with the same layout) for this adapter.
    /// Rank, alpha, scaling and tensor shapes must match; <paramref name="numDocuments"/> overrides the stored count.
    /// </summary>
    public static PerkMemory Load(string directory, LoraAdapter adapter, int? numDocuments = null)
    {
        string cfgPath = Path.Combine(directory, ConfigFile), wPath = Path.Combine(directory, WeightsFile);
        if (!File.Exists(cfgPath)) throw new PerkException($"{cfgPath}: not found (expected a PEFT adapter folder)");
        if (!File.Exists(wPath)) throw new PerkException($"{wPath}: not found (expected a PEFT adapter folder)");
        JsonObject cfg;
        try { cfg = JsonNode.Parse(File.ReadAllText(cfgPath)) as JsonObject ?? throw new PerkException($"{cfgPath}: expected a JSON object"); }
        catch (JsonException e) { throw new PerkException($"{cfgPath}: invalid JSON ({e.Message.Split('\n')[0]})"); }
        var o = adapter.Options;
        if ((string?)cfg["peft_type"] != "LORA") throw new PerkException($"{cfgPath}: peft_type must be \"LORA\"");
        Expect(cfgPath, "r", cfg["r"]?.GetValue<double>(), o.Rank);
        Expect(cfgPath, "lora_alpha", cfg["lora_alpha"]?.GetValue<double>(), o.Alpha);
        bool rs = cfg["use_rslora"]?.GetValue<bool>() ?? false;
        if (rs != o.UseRsLora) throw new PerkException($"{cfgPath}: use_rslora is {rs.ToString().ToLowerInvariant()}, the model's adapter uses {o.UseRsLora.ToString().ToLowerInvariant()}");

        var loaded = Safetensors.Load(wPath);
        var header = Safetensors.ReadHeader(wPath);
        try
        {
            var weights = new List<Tensor>(adapter.Count);
            for (int i = 0; i < adapter.Count; i++)
            {
                string key = adapter.TensorNames[i];
                if (!loaded.TryGetValue(key, out var t)) throw new PerkException($"{wPath}: missing tensor \"{key}\"");
                adapter.CheckShape(i, t, wPath);
                if (!t.isfinite().all().ToBoolean()) throw new PerkException($"{wPath}: tensor \"{key}\" contains NaN or Inf");
                weights.Add(t.to_type(adapter.Initial[i].dtype));
            }
            var extra = loaded.Keys.Except(adapter.TensorNames).FirstOrDefault();
            if (extra != null) throw new PerkException($"{wPath}: unexpected tensor \"{extra}\" (adapter layout differs from the model's)");
            int docs = numDocuments ?? (header.Metadata is { } md && md.TryGetValue(DocsKey, out var d) && int.TryParse(d, out var n) ? n
                : throw new PerkException($"{wPath}: metadata \"{DocsKey}\" missing; pass the number of documents explicitly"));
            var memory = new PerkMemory(adapter, weights, docs, Array.Empty<double>())
            {
                BaseFingerprint = header.Metadata is { } md2 && md2.TryGetValue(BaseKey, out var fp) ? fp : null,
                BaseModelNameOrPath = cfg["base_model_name_or_path"] is JsonValue v && v.TryGetValue<string>(out var b) ? b : null,
            };
            foreach (var w in weights) w.Dispose();
            return memory;
        }
        finally { foreach (var t in loaded.Values) t.Dispose(); }
    }

    static void Expect(string path, string key, double? got, double expected)
    {
        if (got is null) throw new PerkException($"{path}: missing \"{key}\"");
        if (Math.Abs(got.Value - expected) > 1e-9) throw new PerkException($"{path}: \"{key}\" is {got}, the model's adapter has {expected}");
    }

    public void Dispose() { foreach (var t in FastWeights) t.Dispose(); }
}
