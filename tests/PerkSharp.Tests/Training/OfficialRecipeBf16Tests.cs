using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Reliability;
using PerkSharp.Tests.Tokenization;

namespace PerkSharp.Tests.Training;

/// <summary>
/// The shipped configs/meta_train.yaml (bf16: true, rank 256, packing, truncated T = 2 of N = 4) runs unchanged on tiny
/// Qwen2 and Llama folders; only the model, data and run folders are overridden. Its meta-steps run on a bfloat16 base
/// with finite losses, the saved meta-parameters are float32, and eval and encode on the run work, the memory float32.
/// </summary>
[Collection(SerialCollection.Name)]
public class OfficialRecipeBf16Tests : IDisposable
{
    readonly string _dir = TokenizerTestUtil.TempDir("recipe-bf16");
    public OfficialRecipeBf16Tests() => TorchRuntime.Initialize(1);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static JsonObject Config(string arch) => arch == "qwen2" ? BadInputFixtures.Qwen2Config() : new JsonObject
    {
        ["model_type"] = "llama", ["vocab_size"] = 257, ["hidden_size"] = 32, ["num_hidden_layers"] = 1,
        ["num_attention_heads"] = 4, ["num_key_value_heads"] = 1, ["intermediate_size"] = 40,
        ["max_position_embeddings"] = 128, ["eos_token_id"] = 256, ["tie_word_embeddings"] = false,
    };

    [Theory]
    [InlineData("qwen2")]
    [InlineData("llama")]
    public void ShippedMetaTrainRecipeRunsInBf16MixedThenEvalAndEncode(string arch)
    {
        string model = BadInputFixtures.RealModel(Path.Combine(_dir, "model"), Config(arch));
        string data = Path.Combine(_dir, "data", "babilong", "qa1_1k");
        KillResumeTests.WriteData(Path.Combine(data, "train.jsonl"));
        File.Copy(Path.Combine(data, "train.jsonl"), Path.Combine(data, "test.jsonl"));
        string run = Path.Combine(_dir, "run");
        string recipe = Path.Combine(TrainConfigTests.RepoRoot(), "configs", "meta_train.yaml");
        Assert.Contains("bf16: true", File.ReadAllText(recipe));

        var t = CliRunner.Run("train", "--config", recipe, $"model_name_or_path={model}", $"data_dir={Path.Combine(_dir, "data")}",
            $"output_dir={run}", "--stop-after", "2", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Stdout + t.Stderr);
        Assert.Contains($"base {arch}", t.Stderr);
        Assert.Contains("bfloat16 weights", t.Stderr);
        var steps = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!)
            .Where(o => (string)o["kind"]! == "train").ToList();
        Assert.Equal(new long[] { 1, 2 }, steps.Select(o => (long)o["step"]!));
        foreach (var o in steps)
        {
            Assert.True(double.IsFinite((double)o["outer_loss"]!) && double.IsFinite((double)o["grad_norm"]!), o.ToJsonString());
            Assert.Equal(0, (int)o["skipped"]!);
            for (int i = 0; i < 4; i++) Assert.True(double.IsFinite((double)o[$"inner_loss_{i}"]!), o.ToJsonString());
        }
        string meta = Path.Combine(run, "checkpoints", "last", "perk_meta.safetensors");
        Assert.All(Safetensors.ReadHeader(meta).Tensors, x => Assert.Equal("F32", x.DType));

        var e = CliRunner.Run("eval", "--checkpoint", run, "--data", Path.Combine(data, "test.jsonl"), "--max", "2",
            "--out", Path.Combine(_dir, "eval"), "max_new_tokens=4", "--threads", "1");
        Assert.True(e.ExitCode == 0, e.Stdout + e.Stderr);
        Assert.Contains("bfloat16 weights", e.Stderr);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_dir, "eval", "outputs.jsonl")).Count(l => l.Length > 0));

        File.WriteAllText(Path.Combine(_dir, "doc.txt"), "Mary went to the kitchen. John moved to the garden.\n");
        string mem = Path.Combine(_dir, "mem");
        var c = CliRunner.Run("encode", "--checkpoint", run, "--document", Path.Combine(_dir, "doc.txt"), "--out", mem, "--threads", "1");
        Assert.True(c.ExitCode == 0, c.Stdout + c.Stderr);
        Assert.All(Safetensors.ReadHeader(Path.Combine(mem, PerkMemory.WeightsFile)).Tensors, x => Assert.Equal("F32", x.DType));
    }
}
