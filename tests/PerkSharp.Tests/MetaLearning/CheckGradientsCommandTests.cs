using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.Runtime;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Tokenization;
using PerkSharp.Tokenization;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>`perk check-gradients` end to end on HF-format folders (byte-level 257 vocabulary, as the checker's).</summary>
public class CheckGradientsCommandTests : IDisposable
{
    readonly string _dir = TokenizerTestUtil.TempDir("checkgrad");
    public CheckGradientsCommandTests() => TorchRuntime.Initialize(1);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    string Checkpoint(PerkSharp.Models.ModelConfig config)
    {
        string dir = Path.Combine(_dir, config.ModelType);
        TokenizerTestUtil.WriteByteLevel257(_dir);
        var tok = TokenizerLoader.Load(_dir, config);
        using var model = TinyModels.Create(config, TorchSharp.torch.ScalarType.Float32);
        HfCheckpoint.Save(dir, model, tok);
        return dir;
    }

    [Fact]
    public void JsonReportPassesOnAGpt2FolderInTruncatedMode()
    {
        var r = CliRunner.Run("check-gradients", "--model", Checkpoint(TinyModels.Gpt2Config()), "--mode", "truncated", "--json", "--coordinates", "2", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var o = JsonNode.Parse(r.Stdout.Trim().Split('\n')[^1])!;
        Assert.True((bool)o["passed"]!);
        foreach (var kind in new[] { "lora_A_init", "lora_B_init", "step_sizes", "weighting_model" })
            Assert.True((double)o["kinds"]![kind]!["max_relative_error"]! <= 1e-5, kind);
    }

    [Fact]
    public void FirstOrderOnQwen2ReportsAnExactlyZeroWeightingGradient()
    {
        var r = CliRunner.Run("check-gradients", "--model", Checkpoint(TinyModels.Qwen2Config()), "--mode", "first-order", "--coordinates", "2", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("weighting_model", r.Stdout);
        Assert.Contains("(gradient exactly 0)", r.Stdout);
        Assert.Contains("PASSED", r.Stdout);
    }

    [Fact]
    public void BadModeIsAOneLineUserError()
    {
        var r = CliRunner.Run("check-gradients", "--model", _dir, "--mode", "sideways");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--mode", r.Stderr);
    }
}
