using System.Text.Json.Nodes;
using PerkSharp.Generation;
using PerkSharp.IO;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tests.Cli;
using PerkSharp.Tests.Models;
using PerkSharp.Tests.Tokenization;
using PerkSharp.Tokenization;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Generation;

/// <summary>`perk generate` on HF-format folders with the checker's byte-level 257 vocabulary (end-of-text = 256).</summary>
public class GenerateCommandTests : IDisposable
{
    readonly string _dir = TokenizerTestUtil.TempDir("gen");

    public GenerateCommandTests() => TorchRuntime.Initialize();
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    (CausalLM Model, ITokenizer Tok, string Dir) Checkpoint(string arch)
    {
        var cfg = TinyModels.Config(arch, layers: 2);
        cfg.VocabSize = 257; cfg.EosTokenId = 256;
        string tokDir = Path.Combine(_dir, arch + "-tok");
        Directory.CreateDirectory(tokDir);
        TokenizerTestUtil.WriteByteLevel257(tokDir);
        var model = ModelFactory.Create(cfg, seed: 21);
        var tok = TokenizerLoader.Load(tokDir, cfg);
        string dir = Path.Combine(_dir, arch);
        HfCheckpoint.Save(dir, model, tok);
        return (model, tok, dir);
    }

    static JsonObject Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        return (JsonObject)JsonNode.Parse(lines[0])!;
    }

    static int[] Ints(JsonNode? n) => ((JsonArray)n!).Select(x => (int)x!).ToArray();

    [Theory]
    [InlineData("gpt2")]
    [InlineData("qwen2")]
    public void JsonOutputHoldsGreedyIdsOfTheSavedModel(string arch)
    {
        var (model, tok, dir) = Checkpoint(arch);
        using var _ = model;
        var prompt = new[] { 72, 101, 108, 108, 111, 32, 119 };
        var o = Json(CliRunner.Run("generate", "--model", dir, "--prompt-ids", string.Join(",", prompt), "--max-new-tokens", "10", "--json"));
        var expected = new GreedyGenerator(model, tok).Generate(prompt, 10);
        Assert.Equal(prompt, Ints(o["prompt_ids"]));
        Assert.Equal(expected, Ints(o["output_ids"]));
        Assert.Equal(tok.Decode(expected), (string)o["text"]!);
        Assert.True(expected.Length == 10 || expected[^1] == 256);

        // --prompt TEXT tokenizes with the folder's tokenizer (bytes here); bfloat16 runs too.
        var t = Json(CliRunner.Run("generate", "--model", dir, "--prompt", "Hello w", "--max-new-tokens", "3", "--json", "--dtype", "bfloat16"));
        Assert.Equal(prompt, Ints(t["prompt_ids"]));
        Assert.InRange(Ints(t["output_ids"]).Length, 1, 3);
    }

    [Fact]
    public void BadArgumentsFailWithOneLineAndExitCode2()
    {
        var (model, _, dir) = Checkpoint("gpt2");
        model.Dispose();
        foreach (var args in new[]
        {
            new[] { "generate", "--model", dir, "--max-new-tokens", "2" },                                  // no prompt
            new[] { "generate", "--model", dir, "--prompt", "a", "--prompt-ids", "1" },                     // both
            new[] { "generate", "--model", dir, "--prompt-ids", "1,x" },                                    // not an id
            new[] { "generate", "--model", dir, "--prompt-ids", "1,257" },                                  // outside vocab
            new[] { "generate", "--model", dir, "--prompt-ids", "1", "--dtype", "float16" },
            new[] { "generate", "--model", Path.Combine(_dir, "missing"), "--prompt-ids", "1" },
        })
        {
            var r = CliRunner.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error:", r.Stderr);
        }
    }
}
