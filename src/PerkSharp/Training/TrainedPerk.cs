using PerkSharp.MetaLearning;
using PerkSharp.Runtime;

namespace PerkSharp.Training;

/// <summary>
/// A trained run opened for use: the checkpoint's config (plus test-time overrides such as inner_grad_accum), its
/// base model, and the meta-parameters (PERK) or fine-tuned LoRA (FT-ICR) loaded into a <see cref="PerkSystem"/>.
/// </summary>
public sealed class TrainedPerk : IDisposable
{
    TrainedPerk(string dir, TrainConfig cfg, BaseModel bm, MetaParameters meta)
    {
        CheckpointDir = dir; Config = cfg; Base = bm; Meta = meta;
        System = new PerkSystem(bm.Model, bm.Tokenizer, meta, bm.Directory);
    }

    public string CheckpointDir { get; }
    public TrainConfig Config { get; }
    public BaseModel Base { get; }
    public MetaParameters Meta { get; }
    public PerkSystem System { get; }
    public bool IsFtIcr => Config.Method == "ft_icr";

    /// <param name="path">A checkpoint folder or a run folder (its best checkpoint by val_loss, else its last).</param>
    /// <param name="overrides">key=value applied to the saved config (test-time keys; shape-changing keys fail clearly).</param>
    public static TrainedPerk Open(string path, IEnumerable<string>? overrides = null)
    {
        var cfg = ReadConfig(path, overrides, out string dir);
        return OpenWith(dir, cfg);
    }

    /// <summary>A checkpoint folder with a config already read (e.g. merged with a test config, see <see cref="TestConfig"/>).</summary>
    public static TrainedPerk OpenWith(string dir, TrainConfig cfg)
    {
        string baseDir = PerkCheckpoint.BaseModel(dir);
        var bm = BaseModel.Load(baseDir, cfg.Bf16);
        try
        {
            var settings = cfg.Method == "ft_icr" ? FtIcrTrainer.LoraOnly(cfg) : PerkSettingsMapper.ToSettings(cfg);
            var meta = new MetaParameters(bm.Model, settings, seed: cfg.Seed);
            try { PerkCheckpoint.LoadMeta(dir, meta); }
            catch { meta.Dispose(); throw; }
            return new TrainedPerk(dir, cfg, bm, meta);
        }
        catch { bm.Dispose(); throw; }
    }

    /// <summary>The checkpoint's config without loading anything (so commands can check their outputs first).</summary>
    public static TrainConfig ReadConfig(string path, IEnumerable<string>? overrides, out string checkpointDir)
    {
        checkpointDir = CheckpointManager.Resolve(path);
        string cfgPath = Path.Combine(checkpointDir, "config.yaml");
        if (!File.Exists(cfgPath)) throw new PerkException($"{checkpointDir}: config.yaml missing (not a PerkSharp checkpoint)");
        return TrainConfigLoader.Load(cfgPath, overrides);
    }

    public void Dispose() { Meta.Dispose(); Base.Dispose(); }
}
