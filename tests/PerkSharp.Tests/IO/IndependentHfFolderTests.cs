using System.Globalization;
using System.Text;
using PerkSharp.IO;
using PerkSharp.Runtime;
using PerkSharp.Tests.Tokenization;
using static TorchSharp.torch;

namespace PerkSharp.Tests.IO;

/// <summary>
/// Folders as an independent HF writer produces them (config.json with transformers' own keys, a safetensors file
/// built by hand here with sorted keys and {"format":"pt"}, the byte-level 257 vocab.json + merges.txt): every value
/// written must land in the parameter of the same name.
/// </summary>
public class IndependentHfFolderTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-indep-" + Guid.NewGuid().ToString("N")[..8]);

    public IndependentHfFolderTests() { TorchRuntime.Initialize(); Directory.CreateDirectory(_dir); }
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    const string Gpt2Config = """
        {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1, "bos_token_id": 256,
         "embd_pdrop": 0.1, "eos_token_id": 256, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
         "n_ctx": 32, "n_embd": 16, "n_head": 2, "n_inner": null, "n_layer": 1, "n_positions": 32, "reorder_and_upcast_attn": false,
         "resid_pdrop": 0.1, "scale_attn_by_inverse_layer_idx": false, "scale_attn_weights": true, "summary_activation": null,
         "summary_first_dropout": 0.1, "summary_proj_to_labels": true, "summary_type": "cls_index", "summary_use_proj": true,
         "torch_dtype": "float32", "transformers_version": "4.46.3", "use_cache": true, "vocab_size": 257}
        """;

    const string Qwen2Config = """
        {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 256, "eos_token_id": 256,
         "hidden_act": "silu", "hidden_size": 16, "initializer_range": 0.02, "intermediate_size": 32, "max_position_embeddings": 64,
         "max_window_layers": 1, "model_type": "qwen2", "num_attention_heads": 2, "num_hidden_layers": 1, "num_key_value_heads": 1,
         "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000.0, "sliding_window": null, "tie_word_embeddings": true,
         "torch_dtype": "float32", "transformers_version": "4.46.3", "use_cache": true, "use_sliding_window": false, "vocab_size": 257}
        """;

    static (string, long[])[] Gpt2Tensors() => new (string, long[])[]
    {
        ("transformer.wte.weight", new long[] { 257, 16 }), ("transformer.wpe.weight", new long[] { 32, 16 }),
        ("transformer.h.0.ln_1.weight", new long[] { 16 }), ("transformer.h.0.ln_1.bias", new long[] { 16 }),
        ("transformer.h.0.attn.c_attn.weight", new long[] { 16, 48 }), ("transformer.h.0.attn.c_attn.bias", new long[] { 48 }),
        ("transformer.h.0.attn.c_proj.weight", new long[] { 16, 16 }), ("transformer.h.0.attn.c_proj.bias", new long[] { 16 }),
        ("transformer.h.0.ln_2.weight", new long[] { 16 }), ("transformer.h.0.ln_2.bias", new long[] { 16 }),
        ("transformer.h.0.mlp.c_fc.weight", new long[] { 16, 64 }), ("transformer.h.0.mlp.c_fc.bias", new long[] { 64 }),
        ("transformer.h.0.mlp.c_proj.weight", new long[] { 64, 16 }), ("transformer.h.0.mlp.c_proj.bias", new long[] { 16 }),
        ("transformer.ln_f.weight", new long[] { 16 }), ("transformer.ln_f.bias", new long[] { 16 }),
    };

    static (string, long[])[] Qwen2Tensors() => new (string, long[])[]
    {
        ("model.embed_tokens.weight", new long[] { 257, 16 }),
        ("model.layers.0.self_attn.q_proj.weight", new long[] { 16, 16 }), ("model.layers.0.self_attn.q_proj.bias", new long[] { 16 }),
        ("model.layers.0.self_attn.k_proj.weight", new long[] { 8, 16 }), ("model.layers.0.self_attn.k_proj.bias", new long[] { 8 }),
        ("model.layers.0.self_attn.v_proj.weight", new long[] { 8, 16 }), ("model.layers.0.self_attn.v_proj.bias", new long[] { 8 }),
        ("model.layers.0.self_attn.o_proj.weight", new long[] { 16, 16 }),
        ("model.layers.0.mlp.gate_proj.weight", new long[] { 32, 16 }), ("model.layers.0.mlp.up_proj.weight", new long[] { 32, 16 }),
        ("model.layers.0.mlp.down_proj.weight", new long[] { 16, 32 }),
        ("model.layers.0.input_layernorm.weight", new long[] { 16 }), ("model.layers.0.post_attention_layernorm.weight", new long[] { 16 }),
        ("model.norm.weight", new long[] { 16 }),
    };

    /// <summary>A minimal safetensors writer (sorted keys, F32, metadata, space padding), independent of the engine's.</summary>
    static Dictionary<string, float[]> WriteSafetensors(string path, (string Name, long[] Shape)[] tensors)
    {
        var rng = new Random(11);
        var values = new Dictionary<string, float[]>();
        var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        var data = new MemoryStream();
        foreach (var (name, shape) in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var v = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
            values[name] = v;
            long begin = data.Length;
            foreach (var f in v) data.Write(BitConverter.GetBytes(f));
            header.Append(CultureInfo.InvariantCulture, $",\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{data.Length}]}}");
        }
        header.Append('}');
        while ((header.Length + 8) % 8 != 0) header.Append(' ');
        var hb = Encoding.UTF8.GetBytes(header.ToString());
        File.WriteAllBytes(path, BitConverter.GetBytes((ulong)hb.Length).Concat(hb).Concat(data.ToArray()).ToArray());
        return values;
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("qwen2")]
    public void EveryWrittenValueLandsInTheParameterOfThatName(string arch)
    {
        string dir = Path.Combine(_dir, arch);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), arch == "gpt2" ? Gpt2Config : Qwen2Config);
        TokenizerTestUtil.WriteByteLevel257(dir);
        var written = WriteSafetensors(Path.Combine(dir, "model.safetensors"), arch == "gpt2" ? Gpt2Tensors() : Qwen2Tensors());

        using var m = HfCheckpoint.Load(dir);
        var sd = m.Model.state_dict();
        Assert.Equal(written.Keys.OrderBy(k => k, StringComparer.Ordinal), sd.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, v) in written)
            Assert.Equal(v, sd[name].contiguous().data<float>().ToArray());
        Assert.Equal(Encoding.UTF8.GetBytes("Grüße!").Select(b => (int)b), m.Tokenizer.Encode("Grüße!"));
        using var ids = tensor(new long[] { 1, 2, 3, 256 }, new long[] { 1, 4 });
        var o = m.Model.forward(new PerkSharp.Models.LMInput(ids));
        Assert.Equal(new long[] { 1, 4, 257 }, o.Logits.shape);
        Assert.True(o.Logits.isfinite().all().item<bool>());
    }
}
