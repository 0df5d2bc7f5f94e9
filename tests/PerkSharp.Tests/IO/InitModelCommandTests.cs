using System.CommandLine;
using System.Text.Json.Nodes;
using PerkSharp.Cli;
using PerkSharp.Cli.Commands;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Tests.IO;

/// <summary>`perk init-model` end to end: HF folders that load back, deterministic seeds, GPT-2's real vocabulary, errors.</summary>
public class InitModelCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-init-" + Guid.NewGuid().ToString("N")[..8]);

    public InitModelCommandTests() { TorchRuntime.Initialize(); Directory.CreateDirectory(_dir); }
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static int Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Options.Add(CliGlobals.Threads);
        root.Options.Add(CliGlobals.Verbose);
        root.Subcommands.Add(new InitModelCommand().Build());
        return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    [Theory]
    [InlineData("gpt2", "4")]
    [InlineData("qwen2", "2")]
    [InlineData("llama", "1")]
    public void WritesAnHfFolderThatLoadsWithAByteLevelTokenizer(string arch, string kvHeads)
    {
        string dir = Path.Combine(_dir, arch);
        Assert.Equal(0, Run("init-model", "--arch", arch, "--layers", "1", "--hidden", "32", "--heads", "4", "--kv-heads", kvHeads,
                            "--positions", "64", "--seed", "5", "--out", dir));
        foreach (var f in new[] { "config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.Equal(new[] { "#version: 0.2" }, File.ReadAllLines(Path.Combine(dir, "merges.txt")));

        using var m = HfCheckpoint.Load(dir);
        Assert.Equal((arch, 1, 32, 4, int.Parse(kvHeads), 257, 64),
            (m.Config.ModelType, m.Config.NumHiddenLayers, m.Config.HiddenSize, m.Config.NumAttentionHeads, m.Config.NumKeyValueHeads,
             m.Config.VocabSize, m.Config.MaxPositionEmbeddings));
        Assert.Equal(new[] { 72, 105, 256 }, m.Tokenizer.Encode("Hi<|endoftext|>"));
        Assert.Equal((256, 256), (m.Tokenizer.EosId, m.Tokenizer.PadId));
        Assert.Equal(256, m.Config.EosTokenId);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal(arch == "gpt2" ? "GPT2LMHeadModel" : arch == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM", (string)config["architectures"]![0]!);
    }

    [Fact]
    public void SameSeedGivesIdenticalBytesAndOtherSeedDiffers()
    {
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b"), c = Path.Combine(_dir, "c");
        foreach (var (d, seed) in new[] { (a, "1"), (b, "1"), (c, "2") })
            Assert.Equal(0, Run("init-model", "--arch", "qwen2", "--layers", "1", "--hidden", "16", "--heads", "2", "--seed", seed, "--out", d));
        byte[] Bytes(string d) => File.ReadAllBytes(Path.Combine(d, "model.safetensors"));
        Assert.Equal(Bytes(a), Bytes(b));
        Assert.NotEqual(Bytes(a), Bytes(c));
    }

    [Fact]
    public void Bfloat16CheckpointStoresBf16()
    {
        string dir = Path.Combine(_dir, "bf16");
        Assert.Equal(0, Run("init-model", "--arch", "llama", "--layers", "1", "--hidden", "16", "--heads", "2", "--dtype", "bfloat16", "--out", dir));
        Assert.All(Safetensors.ReadHeader(Path.Combine(dir, "model.safetensors")).Tensors, t => Assert.Equal("BF16", t.DType));
        Assert.Equal("bfloat16", (string)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["torch_dtype"]!);
    }

    [Fact]
    public void Gpt2WithVocab50257WritesGpt2sRealTokenizer()
    {
        string dir = Path.Combine(_dir, "gpt2-real");
        Assert.Equal(0, Run("init-model", "--arch", "gpt2", "--layers", "1", "--hidden", "16", "--heads", "2", "--vocab", "50257", "--out", dir));
        File.Delete(Path.Combine(dir, "tokenizer.json"));   // the GPT2Tokenizer layout alone must carry it
        using var m = HfCheckpoint.Load(dir);
        Assert.Equal(new[] { 15496, 995, 50256 }, m.Tokenizer.Encode("Hello world<|endoftext|>"));
        Assert.Equal(50256, m.Config.EosTokenId);
    }

    [Theory]
    [InlineData("--arch", "bert")]
    [InlineData("--hidden", "30")]
    [InlineData("--vocab", "100")]
    [InlineData("--layers", "0")]
    [InlineData("--kv-heads", "3")]
    [InlineData("--dtype", "int8")]
    public void BadOptionsAreUserErrorsAndWriteNothing(string option, string value)
    {
        string dir = Path.Combine(_dir, "bad");
        var args = new List<string> { "init-model", "--arch", "qwen2", "--hidden", "32", "--heads", "4", "--out", dir };
        int i = args.IndexOf(option);
        if (i >= 0) args[i + 1] = value; else args.AddRange(new[] { option, value });
        Assert.Equal(CliGlobals.UserError, Run(args.ToArray()));
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.GetDirectories(_dir));   // no temp folder left behind
    }

    [Fact]
    public void AnExistingModelIsReplacedOnlyWithForceAndOtherFilesNever()
    {
        string dir = Path.Combine(_dir, "full");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "keep.txt"), "x");
        foreach (var force in new[] { Array.Empty<string>(), new[] { "--force" } })
            Assert.Equal(CliGlobals.UserError, Run(new[] { "init-model", "--arch", "gpt2", "--hidden", "16", "--heads", "2", "--out", dir }.Concat(force).ToArray()));
        Assert.Equal(new[] { "keep.txt" }, Directory.GetFileSystemEntries(dir).Select(Path.GetFileName));

        string model = Path.Combine(_dir, "model");
        Assert.Equal(0, Run("init-model", "--arch", "gpt2", "--hidden", "16", "--heads", "2", "--out", model));
        var before = File.ReadAllBytes(Path.Combine(model, "model.safetensors"));
        Assert.Equal(CliGlobals.UserError, Run("init-model", "--arch", "gpt2", "--hidden", "16", "--heads", "2", "--seed", "3", "--out", model));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(model, "model.safetensors")));
        Assert.Equal(0, Run("init-model", "--arch", "gpt2", "--hidden", "16", "--heads", "2", "--seed", "3", "--out", model, "--force"));
        Assert.NotEqual(before, File.ReadAllBytes(Path.Combine(model, "model.safetensors")));
    }
}
