using System.Text;
using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.Models;
using PerkSharp.Tokenization;

namespace PerkSharp.Tests.Reliability;

/// <summary>Small writers for the bad-input corpus: valid pieces to start from, and raw byte-level corruptions.</summary>
internal static class BadInputFixtures
{
    /// <summary>A valid tiny GPT-2 config.json (byte-level vocabulary 257, end-of-text 256, 2 layers, hidden 32, 64 positions).</summary>
    public static JsonObject Gpt2Config() => new()
    {
        ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 4,
        ["n_positions"] = 64, ["eos_token_id"] = 256,
    };

    /// <summary>A valid tiny Qwen2 config.json.</summary>
    public static JsonObject Qwen2Config() => new()
    {
        ["model_type"] = "qwen2", ["vocab_size"] = 257, ["hidden_size"] = 32, ["num_hidden_layers"] = 1,
        ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["intermediate_size"] = 48, ["max_position_embeddings"] = 128,
    };

    /// <summary>A well-formed safetensors file with one F32 tensor "w" of shape [2, 2].</summary>
    public static byte[] ValidSafetensors() =>
        Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16);

    /// <summary>u64 header length + header text + <paramref name="dataLen"/> zero bytes.</summary>
    public static byte[] Safetensors(string header, int dataLen, long? declaredLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataLen];
        BitConverter.GetBytes((ulong)(declaredLength ?? h.Length)).CopyTo(bytes, 0);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>Writes config.json (when given), model.safetensors (when given) and a byte-level tokenizer into <paramref name="dir"/>.</summary>
    public static string ModelFolder(string dir, JsonObject? config, byte[]? weights)
    {
        Directory.CreateDirectory(dir);
        Tokenization.TokenizerTestUtil.WriteByteLevel257(dir);
        if (config != null) File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        if (weights != null) File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), weights);
        return dir;
    }

    /// <summary>A model folder with a valid config and the given raw config.json text.</summary>
    public static string ModelWithConfigText(string dir, string configText)
    {
        ModelFolder(dir, null, ValidSafetensors());
        File.WriteAllText(Path.Combine(dir, "config.json"), configText);
        return dir;
    }

    /// <summary>A GPT-2 config with <paramref name="edit"/> applied.</summary>
    public static string ModelWithConfig(string dir, Action<JsonObject> edit, JsonObject? baseConfig = null)
    {
        var c = baseConfig ?? Gpt2Config();
        edit(c);
        return ModelFolder(dir, c, ValidSafetensors());
    }

    /// <summary>A sharded model folder: index.json text and the shard files given.</summary>
    public static string ShardedModel(string dir, string indexJson, params (string Name, byte[] Bytes)[] shards)
    {
        ModelFolder(dir, Gpt2Config(), null);
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), indexJson);
        foreach (var (n, b) in shards) File.WriteAllBytes(Path.Combine(dir, n), b);
        return dir;
    }

    /// <summary>
    /// A real, loadable model folder (random weights, byte-level tokenizer) written by the engine's HF writer;
    /// <paramref name="config"/> defaults to <see cref="Gpt2Config"/>.
    /// </summary>
    public static string RealModel(string dir, JsonObject? config = null, long seed = 1)
    {
        ModelFolder(dir, null, null);
        var cfg = ModelConfig.FromJson((JsonObject)JsonNode.Parse((config ?? Gpt2Config()).ToJsonString())!);
        var tok = TokenizerLoader.Load(dir, cfg);
        using var model = ModelFactory.Create(cfg, seed: seed);
        HfCheckpoint.Save(dir, model, tok);
        return dir;
    }

    /// <summary>Replaces the weights of <paramref name="dir"/> with those of a model built from <paramref name="other"/>.</summary>
    public static string WeightsFrom(string dir, JsonObject other)
    {
        string tmp = dir + "-other";
        RealModel(tmp, other);
        File.Copy(Path.Combine(tmp, "model.safetensors"), Path.Combine(dir, "model.safetensors"), overwrite: true);
        return dir;
    }

    /// <summary>A YAML config file with the given text.</summary>
    public static string Yaml(string dir, string text)
    {
        Directory.CreateDirectory(dir);
        string p = Path.Combine(dir, "train.yaml");
        File.WriteAllText(p, text);
        return p;
    }

    /// <summary>A generic-format JSONL data file made of the given lines.</summary>
    public static string Jsonl(string dir, params string[] lines)
    {
        Directory.CreateDirectory(dir);
        string p = Path.Combine(dir, "data.jsonl");
        File.WriteAllText(p, string.Join("\n", lines) + "\n");
        return p;
    }

    public const string GoodLine = "{\"context\":[\"Mary went to the kitchen.\"],\"question\":\"Where is Mary?\",\"answer\":\"kitchen\"}";
}
