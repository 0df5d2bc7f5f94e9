using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Models;

/// <summary>The engine's logits equal an independent scalar re-implementation of the HF forward (see NaiveReference).</summary>
public class ReferenceForwardTests
{
    [Theory]
    [MemberData(nameof(TinyModels.Architectures), MemberType = typeof(TinyModels))]
    public void LogitsMatchIndependentScalarReference(string arch)
    {
        using var m = TinyModels.Create(arch, dtype: ScalarType.Float64);
        var ids = new long[] { 7, 3, 41, 0, 59, 12, 33, 8, 21 };
        var expected = new NaiveReference(m).Logits(ids);
        foreach (bool fused in new[] { false, true })
        {
            var o = m.forward(new LMInput(TinyModels.Ids(ids)) { AllowFusedAttention = fused });
            var got = o.Logits[0].data<double>().ToArray();
            double maxErr = 0, maxAbs = 0;
            for (int t = 0; t < ids.Length; t++)
                for (int v = 0; v < TinyModels.Vocab; v++)
                {
                    maxErr = Math.Max(maxErr, Math.Abs(got[t * TinyModels.Vocab + v] - expected[t][v]));
                    maxAbs = Math.Max(maxAbs, Math.Abs(expected[t][v]));
                }
            // Rotary cos/sin are computed in float32 as HF does, hence not 1e-12.
            Assert.True(maxErr < 1e-5 * Math.Max(1, maxAbs), $"{arch} fused={fused}: max |Δlogit| {maxErr:E2} (logits up to {maxAbs:F2})");
        }
    }
}
