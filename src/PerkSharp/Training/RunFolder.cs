using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Training;

/// <summary>
/// What `perk train` checks about its output_dir before any work: it takes the folder's <see cref="RunLock"/> (one
/// writer per run folder), and it never mixes two runs — a fresh run refuses a folder holding another run, and
/// --resume refuses settings that differ from the run's recorded recipe instead of rewriting its config.yaml.
/// </summary>
public static class RunFolder
{
    /// <summary>
    /// Keys that may differ between a run and its resume: they say where things are (a run folder moved with its
    /// model and data), not what is trained; a different model still fails when its shapes are checked on load.
    /// </summary>
    static readonly HashSet<string> NotRecipe = new(StringComparer.Ordinal) { "output_dir", "data_dir", "model_name_or_path", "init_from" };

    /// <summary>Locks <paramref name="cfg"/>'s output_dir and checks it; the caller disposes the lock when the run ends.</summary>
    public static RunLock Claim(TrainConfig cfg, bool resume)
    {
        string dir = cfg.OutputDir;
        if (File.Exists(dir)) throw new PerkException($"{dir}: output_dir is a file, not a folder");
        var lk = RunLock.Acquire(dir);
        try
        {
            Check(cfg, resume);
            return lk;
        }
        catch { lk.Dispose(); throw; }
    }

    static void Check(TrainConfig cfg, bool resume)
    {
        string dir = cfg.OutputDir;
        string last = Path.Combine(dir, "checkpoints", "last", "config.yaml"), top = Path.Combine(dir, "config.yaml");
        string? recorded = File.Exists(last) ? last : File.Exists(top) ? top : null;
        string mine = TrainConfigLoader.ToYaml(cfg);
        if (resume)
        {
            if (recorded == null) throw new PerkException($"{dir}: nothing to resume (no checkpoints/last)");
            if (Difference(File.ReadAllText(recorded), mine) is string d)
                throw new PerkException($"{dir}: --resume with a changed recipe ({d}); resume with the run's own settings, or train into a new output_dir");
            return;
        }
        PerkCheckpoint.EnsureFreshRunDir(dir);
        // A run killed before its first checkpoint leaves config.yaml only: the same run may start over, another may not.
        if (File.Exists(top) && Difference(File.ReadAllText(top), mine) is string diff)
            throw new PerkException($"{dir}: already holds another run ({diff}); choose another output_dir");
    }

    /// <summary>The first differing recipe key as "key: recorded -> given", or null when the recipes agree.</summary>
    public static string? Difference(string recordedYaml, string givenYaml)
    {
        var a = Lines(recordedYaml);
        var b = Lines(givenYaml);
        // Keys only one side knows (written by an older or newer perk) are not compared.
        foreach (var key in a.Keys.Intersect(b.Keys).Where(k => !NotRecipe.Contains(k)).Order(StringComparer.Ordinal))
            if (a[key] != b[key]) return $"{key}: {a[key]} -> {b[key]}";
        return null;
    }

    static Dictionary<string, string> Lines(string yaml)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in yaml.Split('\n'))
        {
            int i = line.IndexOf(": ", StringComparison.Ordinal);
            if (i > 0) d[line[..i]] = line[(i + 2)..].TrimEnd('\r');
        }
        return d;
    }
}
