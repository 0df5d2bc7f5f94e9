using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <summary>experiment=NAME is the shipped configs/NAME.yaml; the test-config key lists name real keys; do_train/load_checkpoint map as documented.</summary>
public class ExperimentConfigTests
{
    [Theory]
    [InlineData("meta_train")]
    [InlineData("meta_test")]
    public void Experiment_is_the_shipped_config_with_the_other_overrides_after_it(string name)
    {
        var source = ConfigSource.Resolve(null, new[] { "lora_rank=16", $"experiment={name}", "seed=3" }, out var rest);
        Assert.Equal(new[] { "lora_rank=16", "seed=3" }, rest);
        Assert.Equal($"configs/{name}.yaml (experiment={name})", source!.Name);
        var file = TrainConfigLoader.Load(Path.Combine(TrainConfigTests.RepoRoot(), "configs", name + ".yaml"), rest);
        Assert.Equal(TrainConfigLoader.ToYaml(file), TrainConfigLoader.ToYaml(source.Load(rest)));
        Assert.Equal(name == "meta_train", source.Load().DoTrain);
    }

    [Fact]
    public void Without_experiment_the_config_option_is_the_source()
    {
        Assert.Null(ConfigSource.Resolve(null, new[] { "seed=3" }, out _));
        Assert.Equal("x.yaml", ConfigSource.Resolve("x.yaml", null, out var rest)!.Path);
        Assert.Empty(rest);
        var e = Assert.Throws<PerkException>(() => ConfigSource.Resolve(null, new[] { "experiment=meta_test", "experiment=meta_train" }, out _));
        Assert.Equal("experiment=meta_test and experiment=meta_train: give one experiment", e.Message);
    }

    [Fact]
    public void Test_config_keys_are_known_and_disjoint()
    {
        var keys = TrainConfigLoader.Keys().Select(k => k.Key).ToHashSet();
        Assert.All(TestConfig.TestTimeKeys.Concat(TestConfig.ModelKeys), k => Assert.Contains(k, keys));
        Assert.Empty(TestConfig.TestTimeKeys.Intersect(TestConfig.ModelKeys));
        // The shipped test config sets every test-time key, with the official inner_grad_accum.
        var source = ConfigSource.Resolve(null, new[] { "experiment=meta_test" }, out _)!;
        Assert.All(TestConfig.TestTimeKeys.Where(k => k != "max_new_tokens"), k => Assert.Contains(k, source.KeysSet()));
        Assert.Equal(4, source.Load().InnerGradAccum);
    }

    [Fact]
    public void Do_train_true_trains_and_load_checkpoint_with_it_is_refused()
    {
        Assert.Null(TestRun.Plan(TrainConfigLoader.Parse("do_train: true\n", "t.yaml"), "t.yaml"));
        var e = Assert.Throws<PerkException>(() => TestRun.Plan(TrainConfigLoader.Parse("load_checkpoint: true\n", "t.yaml"), "t.yaml"));
        Assert.StartsWith("t.yaml: load_checkpoint: true with do_train: true: to continue a run use --resume", e.Message);
        var n = Assert.Throws<PerkException>(() => TestRun.Plan(TrainConfigLoader.Parse("do_train: false\nload_checkpoint: true\ndo_eval: false\n", "t.yaml"), "t.yaml"));
        Assert.Equal("t.yaml: do_train: false and do_eval: false leave nothing to do", n.Message);
    }
}
