using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Models;

/// <summary>
/// HF key compatibility without weights (the ML.GenAI PeekShape approval idea): the exact ordered state_dict keys and
/// shapes of a 2-layer model of each architecture, written out from the HF module definitions.
/// </summary>
public class ModelKeyTests
{
    static List<string> Keys(CausalLM m) => m.state_dict().Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}]").ToList();

    [Fact]
    public void Gpt2KeysAndShapesEqualHf()
    {
        using var m = TinyModels.Create("gpt2");
        var expected = new List<string> { "transformer.wte.weight [61, 32]", "transformer.wpe.weight [64, 32]" };
        for (int i = 0; i < 2; i++)
            expected.AddRange(new[]
            {
                $"transformer.h.{i}.ln_1.weight [32]", $"transformer.h.{i}.ln_1.bias [32]",
                $"transformer.h.{i}.attn.c_attn.weight [32, 96]", $"transformer.h.{i}.attn.c_attn.bias [96]",
                $"transformer.h.{i}.attn.c_proj.weight [32, 32]", $"transformer.h.{i}.attn.c_proj.bias [32]",
                $"transformer.h.{i}.ln_2.weight [32]", $"transformer.h.{i}.ln_2.bias [32]",
                $"transformer.h.{i}.mlp.c_fc.weight [32, 128]", $"transformer.h.{i}.mlp.c_fc.bias [128]",
                $"transformer.h.{i}.mlp.c_proj.weight [128, 32]", $"transformer.h.{i}.mlp.c_proj.bias [32]",
            });
        expected.AddRange(new[] { "transformer.ln_f.weight [32]", "transformer.ln_f.bias [32]" });
        Assert.Equal(expected, Keys(m));
    }

    [Fact]
    public void Qwen2KeysAndShapesEqualHfWithTiedHead()
    {
        using var m = TinyModels.Create("qwen2");
        var expected = new List<string> { "model.embed_tokens.weight [61, 32]" };
        for (int i = 0; i < 2; i++)
            expected.AddRange(new[]
            {
                $"model.layers.{i}.self_attn.q_proj.weight [32, 32]", $"model.layers.{i}.self_attn.q_proj.bias [32]",
                $"model.layers.{i}.self_attn.k_proj.weight [16, 32]", $"model.layers.{i}.self_attn.k_proj.bias [16]",
                $"model.layers.{i}.self_attn.v_proj.weight [16, 32]", $"model.layers.{i}.self_attn.v_proj.bias [16]",
                $"model.layers.{i}.self_attn.o_proj.weight [32, 32]",
                $"model.layers.{i}.mlp.gate_proj.weight [48, 32]", $"model.layers.{i}.mlp.up_proj.weight [48, 32]",
                $"model.layers.{i}.mlp.down_proj.weight [32, 48]",
                $"model.layers.{i}.input_layernorm.weight [32]", $"model.layers.{i}.post_attention_layernorm.weight [32]",
            });
        expected.Add("model.norm.weight [32]");
        Assert.Equal(expected, Keys(m));
    }

    [Fact]
    public void LlamaKeysAndShapesEqualHfWithUntiedHead()
    {
        using var m = TinyModels.Create("llama");
        var expected = new List<string> { "model.embed_tokens.weight [61, 32]" };
        for (int i = 0; i < 2; i++)
            expected.AddRange(new[]
            {
                $"model.layers.{i}.self_attn.q_proj.weight [32, 32]", $"model.layers.{i}.self_attn.k_proj.weight [8, 32]",
                $"model.layers.{i}.self_attn.v_proj.weight [8, 32]", $"model.layers.{i}.self_attn.o_proj.weight [32, 32]",
                $"model.layers.{i}.mlp.gate_proj.weight [40, 32]", $"model.layers.{i}.mlp.up_proj.weight [40, 32]",
                $"model.layers.{i}.mlp.down_proj.weight [32, 40]",
                $"model.layers.{i}.input_layernorm.weight [32]", $"model.layers.{i}.post_attention_layernorm.weight [32]",
            });
        expected.AddRange(new[] { "model.norm.weight [32]", "lm_head.weight [61, 32]" });
        Assert.Equal(expected, Keys(m));
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void ParametersAreFrozenAndInitialisedLikeHf(string arch)
    {
        using var m = TinyModels.Create(arch);
        foreach (var (name, p) in m.named_parameters())
        {
            Assert.False(p.requires_grad, name);
            if (name.EndsWith("bias")) Assert.Equal(0.0, p.abs().max().item<float>());
            else if (name.Contains("ln_") || name.Contains("norm")) Assert.True(p.eq(1).all().item<bool>(), name);
            else
            {
                // normal(0, initializer_range = 0.2); GPT-2 residual projections c_proj: 0.2 / sqrt(2·n_layer) = 0.1.
                double std = arch == "gpt2" && name.EndsWith("c_proj.weight") ? 0.1 : 0.2;
                Assert.InRange(p.std().item<float>(), 0.75 * std, 1.25 * std);
            }
        }
    }

    [Fact]
    public void SameSeedGivesSameWeightsAndOtherSeedDiffers()
    {
        using var a = TinyModels.Create("qwen2", seed: 7);
        using var b = TinyModels.Create("qwen2", seed: 7);
        using var c = TinyModels.Create("qwen2", seed: 8);
        var pa = a.parameters().ToList(); var pb = b.parameters().ToList(); var pc = c.parameters().ToList();
        Assert.All(pa.Zip(pb), t => Assert.True(TinyModels.Same(t.First, t.Second)));
        Assert.False(TinyModels.Same(pa[0], pc[0]));
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void LoraTargetsAreLayerMajorHfModulePaths(string arch)
    {
        using var m = TinyModels.Create(arch);
        var names = m.LoraTargets.Select(t => t.Name).ToList();
        var keys = m.state_dict().Keys.ToHashSet();
        Assert.All(m.LoraTargets, t => Assert.Contains(t.Name + ".weight", keys));
        Assert.Equal(arch == "gpt2" ? 8 : 14, names.Count);
        Assert.Equal(m.LoraTargets.Select(t => t.Layer).OrderBy(l => l), m.LoraTargets.Select(t => t.Layer));
        if (arch == "gpt2")
            Assert.Equal(new[] { "transformer.h.1.attn.c_attn", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_fc", "transformer.h.1.mlp.c_proj" }, names.Skip(4));
        else
            Assert.Equal(new[]
            {
                "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj",
                "model.layers.0.self_attn.o_proj", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj",
            }, names.Take(7));
        // Shapes agree with the weights (Conv1D stores [in, out], Linear [out, in]).
        var sd = m.state_dict();
        foreach (var t in m.LoraTargets)
        {
            var w = sd[t.Name + ".weight"];
            Assert.Equal(t.FanInFanOut ? new[] { (long)t.InFeatures, t.OutFeatures } : new[] { (long)t.OutFeatures, t.InFeatures }, w.shape);
        }
    }

    [Fact]
    public void UnsupportedGpt2AttentionVariantsAreRejectedClearly()
    {
        PerkSharp.Runtime.TorchRuntime.Initialize();
        var cfg = TinyModels.Config("gpt2");
        cfg.Extra["scale_attn_by_inverse_layer_idx"] = true;
        var e = Assert.Throws<PerkSharp.Runtime.PerkException>(() => ModelFactory.Create(cfg));
        Assert.Contains("scale_attn_by_inverse_layer_idx", e.Message);
    }

    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void ModelForLoadingHasTheSameFrozenTensors(string arch)
    {
        using var a = TinyModels.Create(arch);
        using var b = ModelFactory.CreateForLoading(TinyModels.Config(arch), ScalarType.BFloat16);
        Assert.Equal(Keys(a), Keys(b));
        Assert.All(b.parameters(), p => { Assert.False(p.requires_grad); Assert.Equal(ScalarType.BFloat16, p.dtype); });
    }
}
