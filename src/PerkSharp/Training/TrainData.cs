using PerkSharp.Data;

namespace PerkSharp.Training;

/// <summary>
/// The examples a training config names (data_dir, dataset_name, dataset_subset), through the data registry: the
/// train split, and the validation split when present. `perk train` loads here, so tests that train on these lists
/// exercise the same path.
/// </summary>
public static class TrainData
{
    public sealed record Loaded(List<PerkExample> Train, List<PerkExample> Validation, string TrainName, string? MissingValidation);

    public static Loaded Load(TrainConfig cfg)
    {
        var train = DatasetRegistry.Open(cfg.DataDir, cfg.DatasetName, cfg.DatasetSubset, "train");
        var val = DatasetRegistry.Open(cfg.DataDir, cfg.DatasetName, cfg.DatasetSubset, "validation");
        bool hasVal = val.Family.Exists(cfg.DataDir, cfg.DatasetSubset, "validation");
        return new Loaded(train.Load(), hasVal ? val.Load() : new List<PerkExample>(), train.Name,
            hasVal ? null : string.Join(" + ", val.Family.Files(cfg.DataDir, cfg.DatasetSubset, "validation")));
    }
}
