using System.Text.Json.Nodes;
using PerkSharp.Models;
using PerkSharp.Models.Decoder;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Models;

/// <summary>rope_scaling llama3: high frequencies unchanged, low frequencies divided by factor, the band between smoothed.</summary>
public class RopeScalingTests
{
    static ModelConfig Cfg(bool scaled) => ModelConfig.FromJson(new JsonObject
    {
        ["model_type"] = "llama", ["vocab_size"] = 10, ["hidden_size"] = 64, ["num_hidden_layers"] = 1,
        ["num_attention_heads"] = 2, ["intermediate_size"] = 8, ["rope_theta"] = 10000.0,
        ["rope_scaling"] = scaled ? new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0,
            ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 64 } : null,
    });

    [Fact]
    public void Llama3ScalingChangesOnlyLowFrequenciesAsSpecified()
    {
        TorchRuntime.Initialize();
        using var plain = RotaryEmbedding.ComputeInvFreq(Cfg(false));
        using var scaled = RotaryEmbedding.ComputeInvFreq(Cfg(true));
        var p = plain.data<float>().ToArray();
        var s = scaled.data<float>().ToArray();
        Assert.Equal(16, p.Length);
        int high = 0, low = 0, mid = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double expectedPlain = 1.0 / Math.Pow(10000.0, 2.0 * i / 32);
            Assert.Equal(expectedPlain, p[i], 1e-6 * expectedPlain);
            double wavelen = 2 * Math.PI / p[i];
            if (wavelen < 64 / 4.0) { high++; Assert.Equal(p[i], s[i]); }
            else if (wavelen > 64 / 1.0) { low++; Assert.Equal(p[i] / 8.0, s[i], 1e-6 * p[i]); }
            else
            {
                mid++;
                double smooth = (64 / wavelen - 1.0) / (4.0 - 1.0);
                double expected = (1 - smooth) * p[i] / 8.0 + smooth * p[i];
                Assert.Equal(expected, s[i], 1e-5 * p[i]);
                Assert.InRange(s[i], p[i] / 8.0, p[i]);
            }
        }
        Assert.True(high > 0 && low > 0 && mid > 0, $"bands: high {high}, mid {mid}, low {low}");
    }

    [Fact]
    public void ScalingReachesTheModelOutput()
    {
        TorchRuntime.Initialize();
        using var a = ModelFactory.Create(Cfg(false), seed: 3);
        using var b = ModelFactory.Create(Cfg(true), seed: 3);
        using var ids = tensor(Enumerable.Range(0, 40).Select(i => (long)(i % 10)).ToArray(), new long[] { 1, 40 });
        var la = a.forward(new LMInput(ids)).Logits;
        var lb = b.forward(new LMInput(ids)).Logits;
        Assert.True(la[0, 0].allclose(lb[0, 0]));          // position 0: rotation is the identity either way
        Assert.False(la.allclose(lb, rtol: 1e-5, atol: 1e-6));
    }
}
