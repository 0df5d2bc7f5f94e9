using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Runtime;

namespace PerkSharp.Training;

/// <summary>
/// The phases of a pipeline (data, base model, each training stage, each evaluation cell, ...): one progress line
/// per phase with the wall time so far and the phase's own time. A resumable runner also writes a marker,
/// <c>phase.json</c> (the recipe, its SHA-256 and the phase's result), into the phase's folder after everything else
/// the phase wrote. A later run reuses a phase whose marker holds the same recipe hash and redoes, from an emptied
/// folder, any other — so after a kill exactly the unfinished phases (and those whose inputs changed) run again.
/// Phases of different lanes (<see cref="Lanes"/>) may run at once: each <see cref="Run"/> times itself, and the
/// log and the lists are locked.
/// </summary>
public sealed class Phases
{
    public const string MarkerFile = "phase.json";
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    readonly Stopwatch _wall = Stopwatch.StartNew();
    readonly Stopwatch _phase = Stopwatch.StartNew();

    /// <param name="resumable">Write and honour markers; false runs every phase (the quickstart redoes its run).</param>
    public Phases(TextWriter log, bool resumable)
    {
        Log = log; Resumable = resumable;
    }

    public TextWriter Log { get; }
    public bool Resumable { get; }
    public double WallSeconds => _wall.Elapsed.TotalSeconds;

    /// <summary>Names of the phases this runner reused and ran, in order (what a resumed run did, for tests and logs).</summary>
    public List<string> Reused { get; } = new();
    public List<string> Ran { get; } = new();

    /// <summary>"[wall] what (phase time)", then the phase clock restarts.</summary>
    public void Done(string what)
    {
        lock (_lock) { Line(what, _phase.Elapsed.TotalSeconds); _phase.Restart(); }
    }

    readonly object _lock = new();

    void Line(string what, double seconds)
    {
        Log.WriteLine($"[{Progress.Fmt(_wall.Elapsed.TotalSeconds)}] {what} ({Progress.Fmt(seconds)})");
        Log.Flush();
    }

    /// <summary>Starts a phase's clock (time spent between phases, e.g. loading, is not charged to the next one).</summary>
    public void Restart() => _phase.Restart();

    /// <summary>
    /// Runs <paramref name="work"/> as the phase <paramref name="name"/> writing into <paramref name="dir"/>, or reuses
    /// the finished phase there when its recipe is unchanged and <paramref name="complete"/> (a check of the phase's
    /// files) holds. Returns the phase's result, which the marker stores so a reused phase still reports it.
    /// </summary>
    public JsonObject Run(string name, string dir, string recipe, Func<JsonObject> work, Func<JsonObject, string> describe,
                          Func<bool>? complete = null)
    {
        string hash = Hash(recipe);
        var clock = Stopwatch.StartNew();
        if (Resumable && Finished(dir, hash) is { } done && (complete?.Invoke() ?? true))
        {
            lock (_lock) { Reused.Add(name); Line($"{describe(done)}; reused {Path.Combine(dir, MarkerFile)}", clock.Elapsed.TotalSeconds); }
            return done;
        }
        if (Resumable && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);   // nothing half-done survives
        var result = work();
        if (Resumable)
        {
            var marker = new JsonObject
            {
                ["phase"] = name, ["recipe_sha256"] = hash, ["recipe"] = recipe, ["result"] = result.DeepClone(),
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
            };
            IO.AtomicFile.WriteAllText(Path.Combine(dir, MarkerFile), marker.ToJsonString(Indented));
        }
        lock (_lock) { Ran.Add(name); Line(describe(result), clock.Elapsed.TotalSeconds); _phase.Restart(); }
        return result;
    }

    /// <summary>The stored result of the finished phase in <paramref name="dir"/> if its recipe hash is <paramref name="hash"/>.</summary>
    public static JsonObject? Finished(string dir, string hash)
    {
        string path = Path.Combine(dir, MarkerFile);
        if (!File.Exists(path)) return null;
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            return o?["recipe_sha256"]?.GetValue<string>() == hash && o["result"] is JsonObject r ? (JsonObject)r.DeepClone() : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { return null; }   // a damaged marker: redo
    }

    /// <summary>Lower-case hex SHA-256 of a recipe (a later phase's recipe names its inputs by these).</summary>
    public static string Hash(string recipe) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(recipe)));
}
