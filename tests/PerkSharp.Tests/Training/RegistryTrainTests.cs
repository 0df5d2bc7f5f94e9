using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Data;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <summary>
/// Meta-training on every generated family: the data `perk data generate` writes is what `perk train` reads (via
/// <see cref="TrainData"/>, the command's own loading path), on a tiny model for two meta-steps.
/// </summary>
public class RegistryTrainTests
{
    static (string Root, string Data, string Base) Setup()
    {
        string root = TinyRun.TempDir("registry-train");
        // Long enough positions for a whole API document as one segment (word-level tokens).
        return (root, DatasetRegistryTests.Generate("train", "validation"), TinyRun.BaseModelFolder(root, positions: 2048));
    }

    [Theory]
    [InlineData("student_records", "1k")]
    [InlineData("student_records", "1k/aggregate")]
    [InlineData("longgorilla", "torchhub_api_mid")]
    public void MetaTrainer_takes_two_steps_on_generated_data(string name, string subset)
    {
        var (root, data, baseDir) = Setup();
        try
        {
            var cfg = TinyRun.Config(baseDir, Path.Combine(root, "run"), $"data_dir={data}", $"dataset_name={name}", $"dataset_subset={subset}", "max_steps=2");
            var loaded = TrainData.Load(cfg);
            Assert.All(loaded.Train, e => Assert.StartsWith(name + "/", e.Task));
            Assert.NotEmpty(loaded.Validation);
            using var bm = BaseModel.Load(cfg.ModelNameOrPath);
            var losses = new List<double>();
            using var trainer = new MetaTrainer(cfg, bm.Model, bm.Tokenizer, cfg.OutputDir, cfg.ModelNameOrPath) { OnStep = (_, r) => losses.Add(r.OuterLoss) };
            var s = trainer.Run(loaded.Train, loaded.Validation, progressOut: TextWriter.Null);
            Assert.Equal(2, s.Steps);
            Assert.Equal(2, losses.Count);
            Assert.All(losses, l => Assert.True(double.IsFinite(l) && l > 0, $"loss {l}"));
            Assert.NotNull(s.BestValLoss);                                   // validated on the generated validation split
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public void Perk_train_accepts_student_records_by_length_folder()
    {
        var (root, data, baseDir) = Setup();
        try
        {
            var cfg = TinyRun.Config(baseDir, Path.Combine(root, "run"), $"data_dir={data}", "dataset_name=student_records", "dataset_subset=1k", "max_steps=2");
            string yaml = Path.Combine(root, "sr.yaml");
            File.WriteAllText(yaml, TrainConfigLoader.ToYaml(cfg));
            var r = CliRunner.Run("train", "--config", yaml, "--threads", "1");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("examples of student_records/1k", r.Stderr);
            Assert.Contains("train: 2 steps", r.Stdout);
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }
}
