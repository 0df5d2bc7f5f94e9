using System.Reflection;
using PerkSharp.Runtime;

namespace PerkSharp.Training;

/// <summary>The YAML files of configs/, embedded in the engine so that `perk quickstart` runs from any folder.</summary>
public static class ShippedConfigs
{
    public static string Read(string name)
    {
        var asm = typeof(ShippedConfigs).Assembly;
        using var s = asm.GetManifestResourceStream("PerkSharp.configs." + name)
            ?? throw new PerkException($"no shipped config named {name} (available: {string.Join(", ", Names())})");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    public static IEnumerable<string> Names() => typeof(ShippedConfigs).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("PerkSharp.configs.", StringComparison.Ordinal)).Select(n => n["PerkSharp.configs.".Length..]);
}
