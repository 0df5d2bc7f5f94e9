using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PerkSharp.Training;

/// <summary>
/// The files of a PERK checkpoint folder: <c>perk_meta.safetensors</c> (every meta-parameter under its module name:
/// lora.A0…, lslr.lr0…, weighting.fc1.weight…), <c>optimizer.bin</c> (outer AdamW moments and step counts, TorchSharp's
/// format), <c>config.yaml</c> (the full training config), <c>perk_checkpoint.json</c> (the base model folder) and <c>trainer_state.json</c> (counters).
/// </summary>
public static class PerkCheckpoint
{
    public const string MetaFile = "perk_meta.safetensors";
    public const string OptimizerFile = "optimizer.bin";
    public const string InfoFile = "perk_checkpoint.json";

    public static IEnumerable<(string Name, Tensor Value)> Tensors(MetaParameters meta) =>
        meta.named_parameters().Select(p => (p.name, (Tensor)p.parameter));

    public static void Save(CheckpointManager ckpt, TrainerState state, double? valLoss, MetaParameters meta, AdamW? optimizer,
                            TrainConfig cfg, string baseModelPath)
    {
        ckpt.Save(state, valLoss, Tensors(meta), dir =>
        {
            WriteMeta(dir, meta, cfg, baseModelPath);
            optimizer?.save_state_dict(Path.Combine(dir, OptimizerFile));
        });
    }

    /// <summary>Writes the meta-parameters (MetaCheckpoint format), config and base-model pointer into <paramref name="dir"/>.</summary>
    public static void WriteMeta(string dir, MetaParameters meta, TrainConfig cfg, string baseModelPath)
    {
        MetaCheckpoint.Save(meta, Path.Combine(dir, MetaFile));
        File.WriteAllText(Path.Combine(dir, "config.yaml"), TrainConfigLoader.ToYaml(cfg));
        // Absolute: the checkpoint is written in a temp folder first, so a relative path would be relative to it.
        var info = new JsonObject { ["format"] = 1, ["base_model"] = Path.GetFullPath(baseModelPath) };
        File.WriteAllText(Path.Combine(dir, InfoFile), info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Restores meta-parameters and (when given) the optimizer; returns the trainer state.</summary>
    public static TrainerState Load(string dir, MetaParameters meta, AdamW? optimizer)
    {
        LoadMeta(dir, meta);
        if (optimizer != null)
        {
            string p = Path.Combine(dir, OptimizerFile);
            if (!File.Exists(p)) throw new PerkException($"{dir}: {OptimizerFile} missing; cannot resume exactly");
            // TorchSharp reads its own binary format without checks: a truncated or foreign file throws
            // InvalidOperationException, EndOfStreamException or ArgumentException; name the file instead.
            try { optimizer.load_state_dict(p); }
            catch (Exception e) when (e is not PerkException)
            {
                throw new PerkException($"{p}: unreadable optimizer state ({e.Message.Split('\n')[0]}); cannot resume exactly");
            }
        }
        return CheckpointManager.ReadState(dir);
    }

    /// <summary>Copies the saved meta-parameters into <paramref name="meta"/> (names, shapes and finiteness checked first).</summary>
    public static void LoadMeta(string dir, MetaParameters meta)
    {
        string path = Path.Combine(dir, MetaFile);
        if (!File.Exists(path)) throw new PerkException($"{dir}: {MetaFile} missing (not a PERK checkpoint)");
        MetaCheckpoint.Load(meta, path);
    }

    /// <summary>The base-model folder recorded in a checkpoint.</summary>
    public static string BaseModel(string dir)
    {
        string p = Path.Combine(dir, InfoFile);
        if (!File.Exists(p)) throw new PerkException($"{dir}: {InfoFile} missing (not a PERK checkpoint)");
        JsonObject? o;
        try { o = JsonNode.Parse(File.ReadAllText(p)) as JsonObject; }
        catch (JsonException e) { throw new PerkException($"{p}: invalid JSON ({e.Message.Split('\n')[0]})"); }
        if (o?["base_model"] is not JsonValue v || !v.TryGetValue<string>(out var baseModel) || baseModel.Length == 0)
            throw new PerkException($"{p}: \"base_model\" must name the base model folder");
        return baseModel;
    }

    /// <summary>Refuses to start a fresh run over an existing one (use --resume, or another output_dir).</summary>
    public static void EnsureFreshRunDir(string runDir)
    {
        if (Directory.Exists(Path.Combine(runDir, "checkpoints")))
            throw new PerkException($"{runDir}: already holds a run; pass --resume to continue it or choose another output_dir");
    }
}
