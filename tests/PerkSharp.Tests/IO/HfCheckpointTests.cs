using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tests.Models;
using PerkSharp.Tests.Tokenization;
using PerkSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.IO;

/// <summary>HF checkpoint folders: bitwise round trips, strict mapping errors, shards, dtypes, GPT-2 key variants.</summary>
public class HfCheckpointTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-ckpt-" + Guid.NewGuid().ToString("N")[..8]);

    public HfCheckpointTests() { TorchRuntime.Initialize(); Directory.CreateDirectory(_dir); }
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>A tiny model of <paramref name="arch"/> with the byte-level 257 vocabulary and its tokenizer.</summary>
    static (CausalLM Model, ITokenizer Tok) Tiny(string arch, ScalarType dtype = ScalarType.Float32, long seed = 3)
    {
        var cfg = TinyModels.Config(arch, layers: 1);
        cfg.VocabSize = 257; cfg.EosTokenId = 256;
        string tokDir = TokenizerTestUtil.TempDir("ckpt-tok");
        TokenizerTestUtil.WriteByteLevel257(tokDir);
        return (ModelFactory.Create(cfg, dtype, seed), TokenizerLoader.Load(tokDir, cfg));
    }

    static readonly long[] Prompt = { 72, 101, 108, 108, 111, 32, 119, 256, 3, 200 };

    static Tensor Logits(CausalLM m)
    {
        using var ids = tensor(Prompt, new long[] { 1, Prompt.Length });
        var o = m.forward(new LMInput(ids));
        o.LastHidden.Dispose();
        return o.Logits;
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void SaveThenLoadGivesBitwiseIdenticalLogits(string arch)
    {
        var (model, tok) = Tiny(arch);
        using var _m = model;
        string dir = Path.Combine(_dir, arch);
        HfCheckpoint.Save(dir, model, tok);
        foreach (var f in new[] { "config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        // HF layout: GPT-2 keys carry "transformer.", a tied head is not stored.
        var names = Safetensors.ReadHeader(Path.Combine(dir, "model.safetensors")).Tensors.Select(t => t.Name).ToList();
        Assert.Equal(model.state_dict().Keys, names);
        Assert.Equal(arch == "llama", names.Contains("lm_head.weight"));
        if (arch == "gpt2") Assert.All(names, n => Assert.StartsWith("transformer.", n));

        using var loaded = HfCheckpoint.Load(dir);
        using var a = Logits(model);
        using var b = Logits(loaded.Model);
        Assert.True(TensorAssert.Bitwise(a, b));
        Assert.Equal(tok.Encode("Hi there<|endoftext|>"), loaded.Tokenizer.Encode("Hi there<|endoftext|>"));
        Assert.Equal((arch, 257), (loaded.Config.ModelType, loaded.Config.VocabSize));
        Assert.All(loaded.Model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Bfloat16CheckpointRoundTripsAndConvertsOnLoad()
    {
        var (model, tok) = Tiny("qwen2", ScalarType.BFloat16);
        using var _m = model;
        string dir = Path.Combine(_dir, "bf16");
        HfCheckpoint.Save(dir, model, tok);
        Assert.All(Safetensors.ReadHeader(Path.Combine(dir, "model.safetensors")).Tensors, t => Assert.Equal("BF16", t.DType));
        Assert.Equal("bfloat16", (string)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["torch_dtype"]!);

        using var same = HfCheckpoint.Load(dir, ScalarType.BFloat16);
        using var a = Logits(model);
        using var b = Logits(same.Model);
        Assert.True(TensorAssert.Bitwise(a, b));

        using var f32 = HfCheckpoint.Load(dir);   // default compute dtype float32: values are the bf16 values widened
        var w = f32.Model.state_dict()["model.embed_tokens.weight"];
        Assert.Equal(ScalarType.Float32, w.dtype);
        Assert.True(TensorAssert.Bitwise(model.state_dict()["model.embed_tokens.weight"].to(ScalarType.Float32), w));
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void HalfPrecisionFilesLoadIntoAFloat32ModelInPlace(ScalarType fileType)
    {
        var (model, tok) = Tiny("gpt2");
        using var _m = model;
        string dir = Path.Combine(_dir, "half" + fileType);
        HfCheckpoint.Save(dir, model, tok);
        string st = Path.Combine(dir, "model.safetensors");
        var sd = Safetensors.Load(st);
        Safetensors.Save(st, sd.ToDictionary(kv => kv.Key, kv => kv.Value.to(fileType)));

        // Copy into an existing model: the parameter objects stay, their values change.
        var (other, _) = Tiny("gpt2", seed: 99);
        using var _o = other;
        var wte = other.state_dict()["transformer.wte.weight"];
        HfCheckpoint.LoadWeights(other, CheckpointFiles.Open(dir));
        Assert.True(ReferenceEquals(wte, other.state_dict()["transformer.wte.weight"]) || wte.Handle == other.state_dict()["transformer.wte.weight"].Handle);
        Assert.True(TensorAssert.Bitwise(sd["transformer.wte.weight"].to(fileType).to(ScalarType.Float32), wte));
        Assert.False(wte.requires_grad);
    }

    [Fact]
    public void ShardedIndexLoads()
    {
        var (model, tok) = Tiny("llama");
        using var _m = model;
        string dir = Path.Combine(_dir, "sharded");
        HfCheckpoint.Save(dir, model, tok);
        var sd = Safetensors.Load(Path.Combine(dir, "model.safetensors"));
        File.Delete(Path.Combine(dir, "model.safetensors"));
        var keys = sd.Keys.ToList();
        var shards = new[] { keys.Take(keys.Count / 2).ToList(), keys.Skip(keys.Count / 2).ToList() };
        var map = new JsonObject();
        for (int i = 0; i < 2; i++)
        {
            string file = $"model-0000{i + 1}-of-00002.safetensors";
            Safetensors.Save(Path.Combine(dir, file), shards[i].ToDictionary(k => k, k => sd[k]));
            foreach (var k in shards[i]) map[k] = file;
        }
        string index = Path.Combine(dir, CheckpointFiles.Index);
        File.WriteAllText(index, new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = map }.ToJsonString());
        using (var loaded = HfCheckpoint.Load(dir))
        using (var a = Logits(model))
        using (var b = Logits(loaded.Model))
            Assert.True(TensorAssert.Bitwise(a, b));

        map[keys[0]] = "model-00002-of-00002.safetensors";   // the index lies about where a tensor is
        File.WriteAllText(index, new JsonObject { ["weight_map"] = map.DeepClone() }.ToJsonString());
        Assert.Contains($"\"{keys[0]}\"", Assert.Throws<PerkException>(() => HfCheckpoint.Load(dir)).Message);
        map[keys[0]] = "../model-00001-of-00002.safetensors";
        File.WriteAllText(index, new JsonObject { ["weight_map"] = map.DeepClone() }.ToJsonString());
        Assert.Contains("not a file in the model folder", Assert.Throws<PerkException>(() => HfCheckpoint.Load(dir)).Message);
        map[keys[0]] = "model-00003-of-00003.safetensors";
        File.WriteAllText(index, new JsonObject { ["weight_map"] = map.DeepClone() }.ToJsonString());
        Assert.Contains("missing", Assert.Throws<PerkException>(() => HfCheckpoint.Load(dir)).Message);
    }

    public static IEnumerable<object[]> StrictCases() => new[]
    {
        new object[] { "missing", "model.layers.0.mlp.up_proj.weight", "missing tensor \"model.layers.0.mlp.up_proj.weight\"" },
        new object[] { "unexpected", "model.layers.7.mlp.up_proj.weight", "unexpected tensor \"model.layers.7.mlp.up_proj.weight\"" },
        new object[] { "misshaped", "model.layers.0.self_attn.k_proj.weight", "tensor \"model.layers.0.self_attn.k_proj.weight\" has shape [9, 32], expected [16, 32]" },
        new object[] { "integer", "model.norm.weight", "tensor \"model.norm.weight\" has dtype I64" },
        new object[] { "untied-head", "lm_head.weight", "\"lm_head.weight\" differs from model.embed_tokens.weight" },
    };

    [Theory]
    [MemberData(nameof(StrictCases))]
    public void StrictMappingErrorsNameTheTensor(string change, string tensorName, string fragment)
    {
        var (model, tok) = Tiny("qwen2");   // tied head
        using var _m = model;
        string dir = Path.Combine(_dir, "strict-" + change);
        HfCheckpoint.Save(dir, model, tok);
        string st = Path.Combine(dir, "model.safetensors");
        var sd = Safetensors.Load(st);
        switch (change)
        {
            case "missing": sd.Remove(tensorName); break;
            case "unexpected": sd[tensorName] = zeros(48, 32); break;
            case "misshaped": sd[tensorName] = zeros(9, 32); break;
            case "integer": sd[tensorName] = ones(32, dtype: ScalarType.Int64); break;
            case "untied-head": sd[tensorName] = sd["model.embed_tokens.weight"].add(1); break;
        }
        Safetensors.Save(st, sd);
        var e = Assert.Throws<PerkException>(() => HfCheckpoint.Load(dir));
        Assert.Contains(fragment, e.Message);
        Assert.Contains(st, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Gpt2KeysWithoutPrefixWithMaskBuffersAndTiedHeadLoad()
    {
        var (model, tok) = Tiny("gpt2");
        using var _m = model;
        string dir = Path.Combine(_dir, "gpt2-variants");
        HfCheckpoint.Save(dir, model, tok);
        string st = Path.Combine(dir, "model.safetensors");
        var sd = Safetensors.Load(st);
        // As the original openai-community/gpt2 file: no "transformer." prefix, attn.bias / attn.masked_bias buffers,
        // and (as some exporters write) a tied lm_head.weight equal to wte.
        var variant = sd.ToDictionary(kv => kv.Key["transformer.".Length..], kv => kv.Value);
        variant["h.0.attn.bias"] = ones(1, 1, 64, 64).tril();
        variant["h.0.attn.masked_bias"] = tensor(-1e4f);
        variant["lm_head.weight"] = sd["transformer.wte.weight"];
        Safetensors.Save(st, variant);
        using var loaded = HfCheckpoint.Load(dir);
        using var a = Logits(model);
        using var b = Logits(loaded.Model);
        Assert.True(TensorAssert.Bitwise(a, b));
    }

    [Fact]
    public void SaveRefusesNonFiniteWeightsAndWritesNothing()
    {
        var (model, tok) = Tiny("gpt2");
        using var _m = model;
        using (no_grad()) model.state_dict()["transformer.ln_f.weight"][3] = float.NaN;
        string dir = Path.Combine(_dir, "nan");
        var e = Assert.Throws<PerkException>(() => HfCheckpoint.Save(dir, model, tok));
        Assert.Contains("transformer.ln_f.weight", e.Message);
        Assert.False(Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any());
    }
}
