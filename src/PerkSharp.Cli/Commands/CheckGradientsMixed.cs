using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using static TorchSharp.torch;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk check-gradients --dtype bf16-mixed`: the folder's model loaded in bfloat16 with fp32 meta-parameters (as
/// `bf16: true` trains), its meta-gradient compared per kind with the float64 one on the same bf16 weights.
/// </summary>
internal static class CheckGradientsMixed
{
    public static int Execute(string dir, InnerLoopMode mode, string modeName, long seed, double tolerance, bool json)
    {
        using var checkpoint = HfCheckpoint.Load(dir, ScalarType.BFloat16);
        var model = checkpoint.Model;
        var settings = MixedPrecisionCheck.Settings(model.Config);
        var (context, question) = GradientCheckProblem.Tensors(checkpoint.Tokenizer, model.Config);
        List<MixedKindCheck> report;
        try
        {
            if (!json)
                Console.Error.WriteLine($"check-gradients: {model.Config.ModelType}, bf16 base / fp32 meta-parameters vs float64 (same bf16 weights), " +
                                        $"mode {mode}, inner SGD lr {settings.InnerLr:G} ({settings.InnerSteps} steps), seed {seed}");
            report = MixedPrecisionCheck.Run(model, settings, seed, context, question, mode);
        }
        finally { foreach (var b in context) b.Dispose(); question.Dispose(); }

        bool ok = Passed(report, mode, tolerance);
        if (json)
        {
            var o = new JsonObject
            {
                ["dtype"] = "bf16-mixed", ["mode"] = modeName, ["tolerance"] = tolerance, ["passed"] = ok,
                ["kinds"] = new JsonObject(report.Select(k => new KeyValuePair<string, JsonNode?>(k.Kind, new JsonObject
                {
                    ["relative_error"] = k.RelativeError, ["cosine"] = k.Cosine, ["norm_ratio"] = k.NormRatio,
                    ["reference_norm"] = k.ReferenceNorm, ["elements"] = k.Elements, ["exactly_zero"] = k.ExactlyZero,
                }))),
            };
            Console.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        }
        else
        {
            foreach (var k in report)
                Console.WriteLine(k.ExactlyZero
                    ? $"{k.Kind,-16} gradient exactly 0 in both ({k.Elements} entries)"
                    : $"{k.Kind,-16} relative error {k.RelativeError:E2}, cosine {k.Cosine:F5}, norm ratio {k.NormRatio:F4} over {k.Elements} entries (|g64| {k.ReferenceNorm:E2})");
            Console.WriteLine($"check-gradients: {(ok ? "PASSED" : "FAILED")} (bf16-mixed, {modeName}, relative error tolerance {tolerance:G2})");
        }
        return ok ? 0 : 1;
    }

    /// <summary>Every kind within tolerance; exactly 0 only for the weighting model in first-order mode.</summary>
    static bool Passed(IReadOnlyList<MixedKindCheck> report, InnerLoopMode mode, double tolerance) =>
        report.All(k => k.RelativeError <= tolerance &&
                        k.ExactlyZero == (mode == InnerLoopMode.FirstOrder && k.Kind == "weighting_model"));
}
