using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

public class TrainConfigTests
{
    /// <summary>The repository root (the folder holding PerkSharp.slnx), found from the test binary.</summary>
    internal static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "PerkSharp.slnx"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    static string Cfg(string name) => Path.Combine(RepoRoot(), "configs", name);

    [Theory]
    [InlineData("meta_train.yaml")]
    [InlineData("meta_test.yaml")]
    [InlineData("gpt2_qa1.yaml")]
    [InlineData("tiny_qa1.yaml")]
    public void ShippedConfigsParse(string name)
    {
        var c = TrainConfigLoader.Load(Cfg(name));
        Assert.True(c.LoraRank >= 1 && c.NInnerIter >= 1 && c.InnerLr > 0);
    }

    [Fact]
    public void MetaTrainMirrorsTheOfficialValues()
    {
        // docs/DESIGN.md: the official meta_train.yaml.
        var c = TrainConfigLoader.Load(Cfg("meta_train.yaml"));
        Assert.Equal("Qwen/Qwen2.5-0.5B", c.ModelNameOrPath);
        Assert.Equal((256, 16.0), (c.LoraRank, c.LoraAlpha));
        Assert.Equal(1.0, c.LoraScale, 12);                                   // rsLoRA 16/sqrt(256)
        Assert.Equal((4, 5e-5, "truncated", 2), (c.NInnerIter, c.InnerLr, c.InnerFunct, c.UnrollStart));
        Assert.Equal(2, c.TruncationDepth);
        Assert.Equal((1e-5, 0.01, 0.03, 1.0, 2), (c.LearningRate, c.WeightDecay, c.WarmupProportion, c.MaxGradNorm, c.NumTrainEpochs));
        Assert.Equal(("babilong", "qa1_1k"), (c.DatasetName, c.DatasetSubset));
        Assert.True(c.DynaLr && c.WeightedLoss && !c.WeightNormalize && c.Packing);
        var t = TrainConfigLoader.Load(Cfg("meta_test.yaml"));
        Assert.Equal(("default", 4, 1), (t.InnerFunct, t.InnerGradAccum, t.NumTrainEpochs));
    }

    [Fact]
    public void OverridesApplyInOrderAfterTheFile()
    {
        var c = TrainConfigLoader.Load(Cfg("meta_train.yaml"), new[] { "lora_rank=16", "dyna_lr=false", "inner_lr=1e-3", "lora_rank=32", "inner_funct=default" });
        Assert.Equal(32, c.LoraRank);
        Assert.False(c.DynaLr);
        Assert.Equal(1e-3, c.InnerLr);
        Assert.Equal("default", c.InnerFunct);
        Assert.Equal(4, c.TruncationDepth);                                   // default loop, not first-order: all steps
    }

    [Fact]
    public void UnknownKeyIsOneLineErrorWithLineNumberAndSuggestion()
    {
        var e = Assert.Throws<PerkException>(() => TrainConfigLoader.Parse("lora_rank: 8\nlearnig_rate: 1e-4\n", "x.yaml"));
        Assert.Equal("x.yaml:2: unknown key \"learnig_rate\" (did you mean \"learning_rate\"?); run `perk train --list-keys` for the list", e.Message);
        var o = Assert.Throws<PerkException>(() => TrainConfigLoader.Parse("", "x.yaml", new[] { "n_inner_iters=3" }));
        Assert.Contains("did you mean \"n_inner_iter\"", o.Message);
        Assert.DoesNotContain('\n', o.Message);
    }

    [Theory]
    [InlineData("lora_rank: 0\n", "x.yaml:1: \"lora_rank\" must be between 1 and 65536 (got 0)")]
    [InlineData("lora_rank: 2.5\n", "x.yaml:1: \"lora_rank\" must be an integer (got \"2.5\")")]
    [InlineData("inner_lr: -1\n", "x.yaml:1: \"inner_lr\" must be > 0 and <= 10 (got -1)")]
    [InlineData("inner_lr: fast\n", "x.yaml:1: \"inner_lr\" must be a finite number (got \"fast\")")]
    [InlineData("dyna_lr: maybe\n", "x.yaml:1: \"dyna_lr\" must be true or false (got \"maybe\")")]
    [InlineData("inner_funct: full\n", "x.yaml:1: \"inner_funct\" must be one of default, truncated (got \"full\")")]
    [InlineData("n_inner_iter: 2\nunroll_start: 3\n", "x.yaml: \"unroll_start\" (3) must be <= \"n_inner_iter\" (2)")]
    [InlineData("lora_rank: [1, 2]\n", "x.yaml:1: \"lora_rank\" must be a single value, not a list")]
    [InlineData("seed: 1\nseed: 2\n", "x.yaml:2: invalid YAML (Duplicate key")]
    [InlineData("lora_rank: 8\n  bad: [\n", "x.yaml:2: invalid YAML")]
    [InlineData("- a\n- b\n", "x.yaml:1: expected a mapping of key: value lines at the top level")]
    [InlineData("peft_lora: false\n", "x.yaml: \"peft_lora\" must be true")]
    public void BadValuesAreOneLineErrors(string yaml, string expectedStart)
    {
        var e = Assert.Throws<PerkException>(() => TrainConfigLoader.Parse(yaml, "x.yaml"));
        Assert.StartsWith(expectedStart, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void RangeMessageForPositiveRates()
    {
        var e = Assert.Throws<PerkException>(() => TrainConfigLoader.Parse("", "cli", new[] { "learning_rate=0" }));
        Assert.Equal("override learning_rate: \"learning_rate\" must be > 0 and <= 10 (got 0)", e.Message);
    }

    [Fact]
    public void MissingFileAndBadOverrideSyntaxAreOneLine()
    {
        Assert.Equal("nope.yaml: config file not found", Assert.Throws<PerkException>(() => TrainConfigLoader.Load("nope.yaml")).Message);
        Assert.StartsWith("override \"lora_rank\": expected key=value", Assert.Throws<PerkException>(() => TrainConfigLoader.Load(null, new[] { "lora_rank" })).Message);
    }

    [Fact]
    public void SavedYamlRoundTrips()
    {
        var c = TrainConfigLoader.Load(Cfg("meta_train.yaml"), new[] { "output_dir=runs/a: b", "inner_lr=3.5e-4" });
        var back = TrainConfigLoader.Parse(TrainConfigLoader.ToYaml(c), "saved");
        Assert.Equal(TrainConfigLoader.ToYaml(c), TrainConfigLoader.ToYaml(back));
        Assert.Equal("runs/a: b", back.OutputDir);
        Assert.Equal(3.5e-4, back.InnerLr);
    }
}
