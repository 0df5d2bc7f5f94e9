using PerkSharp.Data;
using PerkSharp.Runtime;

namespace PerkSharp.Training;

/// <summary>
/// What `perk train` does with a test config (the seed's meta_test.yaml: do_train: false, load_checkpoint: true):
/// evaluate instead of training. The checkpoint to load is the run in output_dir — the folder `perk train` writes
/// with that config's training twin (configs/meta_train.yaml and meta_test.yaml name the same one) — at its best
/// checkpoint by val_loss, else its last; the data is the test split of data_dir/dataset_name/dataset_subset.
/// </summary>
/// <param name="RunDir">output_dir, as given.</param>
/// <param name="CheckpointDir">The checkpoint it resolves to.</param>
/// <param name="Data">The file (or, for several question files, the split folder) that `perk eval --data` reads.</param>
/// <param name="Out">The evaluation folder: RUN/eval/{method}_{path of the file under data_dir}, as `perk eval --data data_dir` names it.</param>
/// <param name="DataName">The data set as the registry names it, e.g. babilong/qa1_1k/test.</param>
public sealed record TestRun(string RunDir, string CheckpointDir, string Data, string DataName, string Out)
{
    /// <summary>Null when <paramref name="cfg"/> trains (do_train: true); the test run otherwise, or a one-line error.</summary>
    /// <param name="source">The config's name, for errors.</param>
    public static TestRun? Plan(TrainConfig cfg, string source)
    {
        if (cfg.DoTrain)
        {
            if (cfg.LoadCheckpoint)
                throw new PerkException($"{source}: load_checkpoint: true with do_train: true: to continue a run use --resume; to start from a run's meta-parameters set init_from");
            return null;
        }
        if (!cfg.LoadCheckpoint)
            throw new PerkException($"{source}: do_train: false evaluates a trained run and needs load_checkpoint: true (the run in output_dir)");
        if (!cfg.DoEval) throw new PerkException($"{source}: do_train: false and do_eval: false leave nothing to do");
        string checkpointDir;
        try { checkpointDir = CheckpointManager.Resolve(cfg.OutputDir); }
        catch (PerkException e)
        {
            throw new PerkException($"{source}: no checkpoint to load: load_checkpoint: true loads the run in output_dir, and {e.Message} " +
                                    "(train it first, e.g. `perk train experiment=meta_train`, or set output_dir=RUN)");
        }
        var set = DatasetRegistry.Open(cfg.DataDir, cfg.DatasetName, cfg.DatasetSubset, "test");
        // Question files only: a Student Records split also holds the context.jsonl they share.
        var files = set.Family.Files(cfg.DataDir, cfg.DatasetSubset, "test")
            .Where(f => File.Exists(f) && Path.GetFileName(f) != "context.jsonl").ToList();
        if (files.Count == 0) set.Load();                                   // the registry's one-line "not found" error
        if (files.Count == 0) throw new PerkException($"{source}: no test data for {set.Name}");
        string data = files.Count == 1 ? files[0] : Path.GetDirectoryName(files[0])!;
        string method = TrainedPerk.ReadConfig(checkpointDir, null, out _).Method;
        string tag = Path.GetRelativePath(cfg.DataDir, files.Count == 1 ? files[0] : data)
            .Replace(Path.DirectorySeparatorChar, '_').Replace(".jsonl", "");
        // Several files: perk eval writes one {method}_{file} folder each inside this one.
        return new TestRun(cfg.OutputDir, checkpointDir, data, set.Name, Path.Combine(cfg.OutputDir, "eval", files.Count == 1 ? $"{method}_{tag}" : tag));
    }
}
