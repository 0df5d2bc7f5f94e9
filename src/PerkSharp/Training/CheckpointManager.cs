using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using PerkSharp.IO;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Training;

/// <summary>Progress counters of a training run: everything a resume needs besides tensors (see <see cref="DataOrder"/>).</summary>
public sealed class TrainerState
{
    [JsonPropertyName("global_step")] public long GlobalStep { get; set; }
    [JsonPropertyName("total_steps")] public long TotalSteps { get; set; }
    [JsonPropertyName("best_val_loss")] public double? BestValLoss { get; set; }
    [JsonPropertyName("checks_without_improvement")] public int ChecksWithoutImprovement { get; set; }
    [JsonPropertyName("skipped_steps")] public int SkippedSteps { get; set; }
    [JsonPropertyName("stopped_early")] public bool StoppedEarly { get; set; }
    [JsonPropertyName("val_loss")] public double? ValLoss { get; set; }
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; set; }
}

/// <summary>One entry of checkpoints/index.json.</summary>
public sealed record CheckpointEntry(
    [property: JsonPropertyName("dir")] string Dir,
    [property: JsonPropertyName("step")] long Step,
    [property: JsonPropertyName("val_loss")] double ValLoss);

/// <summary>
/// Keeps a run's checkpoints: the best <c>save_top_k</c> by val_loss (checkpoints/step-NNNNNN) plus checkpoints/last.
/// Every checkpoint folder is written whole into a temp folder and renamed (AtomicFile.WriteDirectory), and the
/// index of best checkpoints is written after the folder, so a kill at any moment leaves the previous state usable.
/// Tensors are checked for NaN/Inf before anything is written: a checkpoint never contains a non-finite value.
/// </summary>
public sealed class CheckpointManager
{
    public const string StateFile = "trainer_state.json";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    readonly string _root;
    readonly int _topK;

    public CheckpointManager(string runDir, int topK)
    {
        _root = Path.Combine(runDir, "checkpoints");
        _topK = topK;
    }

    public string LastDir => Path.Combine(_root, "last");
    string IndexPath => Path.Combine(_root, "index.json");

    /// <summary>The best checkpoints, best first.</summary>
    public List<CheckpointEntry> Best() =>
        File.Exists(IndexPath) ? JsonSerializer.Deserialize<List<CheckpointEntry>>(File.ReadAllText(IndexPath)) ?? new() : new();

    /// <summary>Throws a PerkException naming the first tensor that holds NaN or Inf.</summary>
    public static void EnsureFinite(IEnumerable<(string Name, Tensor Value)> tensors)
    {
        foreach (var (name, t) in tensors)
        {
            using var scope = NewDisposeScope();
            if (!t.isfinite().all().item<bool>())
                throw new NonFiniteException($"tensor \"{name}\" holds NaN or Inf; checkpoint not written");
        }
    }

    /// <summary>
    /// Writes checkpoints/last (always) and, when <paramref name="valLoss"/> ranks among the best k, a step folder.
    /// <paramref name="writeInto"/> writes the payload (weights, optimizer state) into a folder; the state file is
    /// added here. Returns true when the checkpoint entered the best-k list.
    /// </summary>
    public bool Save(TrainerState state, double? valLoss, IEnumerable<(string Name, Tensor Value)> tensors, Action<string> writeInto)
    {
        EnsureFinite(tensors);
        void Write(string dir) => AtomicFile.WriteDirectory(dir, tmp =>
        {
            writeInto(tmp);
            File.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(state, Json));
        });

        bool entered = false;
        if (valLoss is double v && double.IsFinite(v) && _topK > 0)
        {
            var best = Best();
            if (best.Count < _topK || v < best[^1].ValLoss)
            {
                string name = "step-" + state.GlobalStep.ToString("D6", CultureInfo.InvariantCulture);
                Write(Path.Combine(_root, name));
                best.RemoveAll(e => e.Dir == name);
                best.Add(new CheckpointEntry(name, state.GlobalStep, v));
                best = best.OrderBy(e => e.ValLoss).ThenBy(e => e.Step).ToList();
                var dropped = best.Skip(_topK).ToList();
                best = best.Take(_topK).ToList();
                AtomicFile.WriteAllText(IndexPath, JsonSerializer.Serialize(best, Json));
                foreach (var d in dropped)
                    try { Directory.Delete(Path.Combine(_root, d.Dir), true); } catch (IOException) { }
                entered = true;
            }
        }
        Write(LastDir);
        return entered;
    }

    /// <summary>Reads the state file of a checkpoint folder.</summary>
    public static TrainerState ReadState(string checkpointDir)
    {
        string p = Path.Combine(checkpointDir, StateFile);
        if (!File.Exists(p)) throw new PerkException($"{checkpointDir}: not a checkpoint folder ({StateFile} missing)");
        try { return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(p)) ?? throw new PerkException($"{p}: empty"); }
        catch (JsonException e) { throw new PerkException($"{p}: invalid JSON ({e.Message.Split('\n')[0]})"); }
    }

    /// <summary>
    /// Resolves what the user passed as --checkpoint: a checkpoint folder itself, or a run folder (its best
    /// checkpoint by val_loss, else its last one).
    /// </summary>
    public static string Resolve(string path, bool preferLast = false)
    {
        if (File.Exists(Path.Combine(path, StateFile))) return path;
        var root = Path.Combine(path, "checkpoints");
        if (!Directory.Exists(root))
            throw new PerkException($"{path}: neither a checkpoint folder ({StateFile}) nor a run folder (checkpoints/)");
        var m = new CheckpointManager(path, 1);
        if (!preferLast)
            foreach (var e in m.Best())
                if (File.Exists(Path.Combine(root, e.Dir, StateFile))) return Path.Combine(root, e.Dir);
        if (File.Exists(Path.Combine(m.LastDir, StateFile))) return m.LastDir;
        throw new PerkException($"{path}: the run has no complete checkpoint yet");
    }
}

/// <summary>A NaN/Inf where a finite value is required (a skipped step or a refused checkpoint).</summary>
public sealed class NonFiniteException : PerkException
{
    public NonFiniteException(string message) : base(message) { }
}
