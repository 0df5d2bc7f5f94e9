using PerkSharp.Runtime;
using YamlDotNet.RepresentationModel;

namespace PerkSharp.Training;

/// <summary>
/// Where a command's YAML comes from: <c>--config FILE</c>, or the seed's short form <c>experiment=NAME</c>
/// (`python run_maml.py experiment=meta_train`), which names a config shipped in configs/. The short form reads the
/// copy built into the engine (<see cref="ShippedConfigs"/>), so it works from any folder.
/// </summary>
public sealed class ConfigSource
{
    ConfigSource(string name, string? path, string? text) { Name = name; Path = path; _text = text; }

    readonly string? _text;

    /// <summary>How errors and outputs name it: the file path, or "configs/meta_test.yaml (experiment=meta_test)".</summary>
    public string Name { get; }

    /// <summary>The file on disk, or null for an embedded config.</summary>
    public string? Path { get; }

    /// <summary>The seed's experiments (its configs/experiment/ folder) and the shipped files they stand for.</summary>
    public static readonly IReadOnlyDictionary<string, string> Experiments = new Dictionary<string, string>
    {
        ["meta_train"] = "meta_train.yaml",
        ["meta_test"] = "meta_test.yaml",
    };

    /// <summary>The config with <paramref name="overrides"/> applied after it (file, line and key named in errors).</summary>
    public TrainConfig Load(IEnumerable<string>? overrides = null) =>
        Path != null ? TrainConfigLoader.Load(Path, overrides) : TrainConfigLoader.Parse(_text!, Name, overrides);

    /// <summary>
    /// The keys the YAML itself sets (call after <see cref="Load"/> has validated it). A test config applies only
    /// these over a checkpoint's config, so a key it leaves out keeps the checkpoint's value, not the default.
    /// </summary>
    public IReadOnlyList<string> KeysSet()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(_text ?? File.ReadAllText(Path!)));
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode map) return Array.Empty<string>();
        return map.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList();
    }

    /// <summary>
    /// The config a command names: <paramref name="config"/> (--config), or an <c>experiment=NAME</c> among the
    /// key=value arguments, which is taken out of them (<paramref name="rest"/> keeps the others, in order). Null
    /// when neither is given; both, two experiments or an unknown name are one-line errors.
    /// </summary>
    public static ConfigSource? Resolve(string? config, IEnumerable<string>? overrides, out string[] rest)
    {
        var all = (overrides ?? Array.Empty<string>()).ToList();
        static bool IsExperiment(string kv) => kv.Split('=', 2)[0].Trim() == "experiment";
        var experiments = all.Where(IsExperiment).ToList();
        rest = all.Where(kv => !IsExperiment(kv)).ToArray();
        if (experiments.Count == 0) return config != null ? new ConfigSource(config, config, null) : null;
        if (experiments.Count > 1) throw new PerkException($"{string.Join(" and ", experiments)}: give one experiment");
        string name = experiments[0].Split('=', 2)[1].Trim();
        if (config != null)
            throw new PerkException($"experiment={name} and --config {config}: give one of them (experiment=NAME is short for --config configs/NAME.yaml)");
        if (!Experiments.TryGetValue(name, out var file))
            throw new PerkException($"experiment={name}: unknown experiment; known: {string.Join(", ", Experiments.Select(e => $"{e.Key} (configs/{e.Value})"))}");
        return new ConfigSource($"configs/{file} (experiment={name})", null, ShippedConfigs.Read(file));
    }
}
