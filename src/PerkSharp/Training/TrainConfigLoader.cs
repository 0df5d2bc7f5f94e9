using System.Globalization;
using System.Reflection;
using System.Text;
using PerkSharp.Runtime;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PerkSharp.Training;

/// <summary>
/// Reads a <see cref="TrainConfig"/> from YAML plus <c>key=value</c> overrides. The YAML is read as a node tree
/// (YamlDotNet's representation model) rather than deserialised, so that every error can name the file and line:
/// unknown keys get a did-you-mean, values are checked for type and range, all as one-line <see cref="PerkException"/>s.
/// </summary>
public static class TrainConfigLoader
{
    sealed record Slot(KeyAttribute Key, PropertyInfo Property);

    static readonly Dictionary<string, Slot> Slots = typeof(TrainConfig).GetProperties()
        .Select(p => (p, k: p.GetCustomAttribute<KeyAttribute>()))
        .Where(t => t.k != null)
        .ToDictionary(t => t.k!.Name, t => new Slot(t.k!, t.p), StringComparer.Ordinal);

    /// <summary>Every known key with its help text, in declaration order (for `perk train --help-config`).</summary>
    public static IEnumerable<(string Key, string Help, string Default)> Keys()
    {
        var d = new TrainConfig();
        return Slots.Values.Select(s => (s.Key.Name, s.Key.Help, Format(s.Property.GetValue(d))));
    }

    /// <summary>One key's value as config.yaml writes it (a test config's keys are applied to a checkpoint's as key=value).</summary>
    public static string ValueOf(TrainConfig cfg, string key) =>
        Slots.TryGetValue(key, out var s) ? Format(s.Property.GetValue(cfg)) : throw new PerkException($"unknown key \"{key}\"");

    /// <summary>Loads <paramref name="path"/> (null: defaults only) and applies <paramref name="overrides"/> in order.</summary>
    public static TrainConfig Load(string? path, IEnumerable<string>? overrides = null)
    {
        var cfg = new TrainConfig();
        if (path != null) ApplyYaml(cfg, path);
        foreach (var o in overrides ?? Array.Empty<string>()) ApplyOverride(cfg, o);
        Validate(cfg, path ?? "config");
        return cfg;
    }

    /// <summary>Parses a YAML text (for tests and embedded configs); <paramref name="source"/> names it in errors.</summary>
    public static TrainConfig Parse(string yaml, string source, IEnumerable<string>? overrides = null)
    {
        var cfg = new TrainConfig();
        ApplyYamlText(cfg, yaml, source);
        foreach (var o in overrides ?? Array.Empty<string>()) ApplyOverride(cfg, o);
        Validate(cfg, source);
        return cfg;
    }

    static void ApplyYaml(TrainConfig cfg, string path)
    {
        if (!File.Exists(path)) throw new PerkException($"{path}: config file not found");
        string text;
        try { text = File.ReadAllText(path, new UTF8Encoding(false, throwOnInvalidBytes: true)); }
        catch (DecoderFallbackException) { throw new PerkException($"{path}: not valid UTF-8"); }
        ApplyYamlText(cfg, text, path);
    }

    static void ApplyYamlText(TrainConfig cfg, string text, string source)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e)
        {
            throw new PerkException($"{source}:{e.Start.Line}: invalid YAML ({FirstLine(e.InnerException?.Message ?? e.Message)})");
        }
        if (stream.Documents.Count == 0) return;                        // an empty file means all defaults
        if (stream.Documents.Count > 1) throw new PerkException($"{source}: expected one YAML document, found {stream.Documents.Count}");
        var root = stream.Documents[0].RootNode;
        if (root is YamlScalarNode { Value: null or "" }) return;
        if (root is not YamlMappingNode map)
            throw new PerkException($"{source}:{root.Start.Line}: expected a mapping of key: value lines at the top level");
        foreach (var (k, v) in map.Children)
        {
            string where = $"{source}:{k.Start.Line}";
            if (k is not YamlScalarNode { Value: { } key }) throw new PerkException($"{where}: keys must be plain names");
            if (v is not YamlScalarNode scalar)
                throw new PerkException($"{where}: \"{key}\" must be a single value, not a {(v is YamlSequenceNode ? "list" : "mapping")}");
            Set(cfg, key, scalar.Value ?? "", where, quoted: scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted);
        }
    }

    /// <summary>Applies one <c>key=value</c> command-line override.</summary>
    public static void ApplyOverride(TrainConfig cfg, string kv)
    {
        int eq = kv.IndexOf('=');
        if (eq <= 0) throw new PerkException($"override \"{kv}\": expected key=value (e.g. lora_rank=16)");
        Set(cfg, kv[..eq].Trim(), kv[(eq + 1)..].Trim(), $"override {kv[..eq].Trim()}", quoted: false);
    }

    static void Set(TrainConfig cfg, string key, string raw, string where, bool quoted)
    {
        if (!Slots.TryGetValue(key, out var slot))
        {
            string? near = DidYouMean(key);
            throw new PerkException($"{where}: unknown key \"{key}\"" + (near != null ? $" (did you mean \"{near}\"?)" : "") +
                                    "; run `perk train --list-keys` for the list");
        }
        var a = slot.Key;
        var t = slot.Property.PropertyType;
        object value;
        if (t == typeof(bool))
        {
            value = raw.ToLowerInvariant() switch
            {
                "true" or "yes" or "on" => true,
                "false" or "no" or "off" => false,
                _ => throw new PerkException($"{where}: \"{key}\" must be true or false (got \"{raw}\")"),
            };
        }
        else if (t == typeof(int))
        {
            if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l))
            {
                // YAML writes 1e3 or 4.0 for whole numbers too; accept exact integers only.
                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || d != Math.Floor(d) || !double.IsFinite(d))
                    throw new PerkException($"{where}: \"{key}\" must be an integer (got \"{raw}\")");
                l = (long)d;
            }
            if (l < int.MinValue || l > int.MaxValue) throw new PerkException($"{where}: \"{key}\" is out of range (got {raw})");
            CheckRange(a, l, key, where, raw);
            value = (int)l;
        }
        else if (t == typeof(double))
        {
            if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
                throw new PerkException($"{where}: \"{key}\" must be a finite number (got \"{raw}\")");
            CheckRange(a, d, key, where, raw);
            value = d;
        }
        else
        {
            if (!quoted && (raw is "" or "~" or "null")) throw new PerkException($"{where}: \"{key}\" must not be empty");
            if (a.OneOf != null && !a.OneOf.Contains(raw))
                throw new PerkException($"{where}: \"{key}\" must be one of {string.Join(", ", a.OneOf)} (got \"{raw}\")");
            value = raw;
        }
        slot.Property.SetValue(cfg, value);
    }

    static void CheckRange(KeyAttribute a, double v, string key, string where, string raw)
    {
        bool hasMin = !double.IsNaN(a.Min), hasMax = !double.IsNaN(a.Max);
        if ((a.Positive && v <= 0) || (hasMin && v < a.Min) || (hasMax && v > a.Max))
        {
            string range = a.Positive ? (hasMax ? $"> 0 and <= {Num(a.Max)}" : "> 0")
                : hasMin && hasMax ? $"between {Num(a.Min)} and {Num(a.Max)}" : hasMin ? $">= {Num(a.Min)}" : $"<= {Num(a.Max)}";
            throw new PerkException($"{where}: \"{key}\" must be {range} (got {raw})");
        }
    }

    /// <summary>Checks between keys (one-line errors naming the keys).</summary>
    static void Validate(TrainConfig c, string source)
    {
        if (!c.PeftLora) throw new PerkException($"{source}: \"peft_lora\" must be true (PERK adapts a LoRA adapter only)");
        if (c.InnerFunct == "truncated" && c.UnrollStart > c.NInnerIter)
            throw new PerkException($"{source}: \"unroll_start\" ({c.UnrollStart}) must be <= \"n_inner_iter\" ({c.NInnerIter})");
        if (c.InnerFunct == "truncated" && c.FirstOrder)
            throw new PerkException($"{source}: \"first_order: true\" applies to inner_funct: default only (truncated uses unroll_start)");
        if (c.ValCheckInterval > 1 && c.ValCheckInterval != Math.Floor(c.ValCheckInterval))
            throw new PerkException($"{source}: \"val_check_interval\" must be a fraction <= 1 or a whole number of steps (got {Num(c.ValCheckInterval)})");
        // The family and the form of the subset are checked here; whether its files exist, when training opens them.
        Data.DatasetRegistry.Get(c.DatasetName, $"{source}: dataset_name");
        try { Data.DatasetRegistry.Open(c.DataDir, c.DatasetName, c.DatasetSubset, "train"); }
        catch (PerkException e) { throw new PerkException($"{source}: dataset_subset: {e.Message}"); }
    }

    /// <summary>The nearest known key by edit distance (at most a third of the length away), or null.</summary>
    public static string? DidYouMean(string key)
    {
        var best = Slots.Keys.Select(k => (k, d: Levenshtein(key.ToLowerInvariant(), k))).OrderBy(t => t.d).ThenBy(t => t.k).First();
        return best.d <= Math.Max(2, key.Length / 3) ? best.k : null;
    }

    static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>The config as YAML (written into every run folder as config.yaml, so a run documents itself).</summary>
    public static string ToYaml(TrainConfig cfg)
    {
        var sb = new StringBuilder();
        foreach (var s in Slots.Values) sb.Append(s.Key.Name).Append(": ").Append(Format(s.Property.GetValue(cfg))).Append('\n');
        return sb.ToString();
    }

    static string Format(object? v) => v switch
    {
        bool b => b ? "true" : "false",
        double d => Num(d),
        int i => i.ToString(CultureInfo.InvariantCulture),
        string s => s.Length == 0 || s.Any(ch => ":#{}[],&*!|>'\"%@`".Contains(ch)) || s.Trim() != s ? "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"" : s,
        _ => v?.ToString() ?? "",
    };

    static string Num(double d) => d.ToString("R", CultureInfo.InvariantCulture);
    static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
