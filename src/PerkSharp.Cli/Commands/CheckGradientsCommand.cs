using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk check-gradients`: verifies the PERK meta-gradient of every meta-parameter kind (LoRA A/B init, step sizes,
/// weighting model) against central finite differences in float64 on a small synthetic context/question; with
/// --dtype bf16-mixed, compares the bf16-mixed analytic meta-gradient (bf16 base, fp32 meta-parameters) with the
/// float64 analytic one (<see cref="MixedPrecisionCheck"/>).
/// </summary>
public sealed class CheckGradientsCommand : ICliCommand
{
    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "HF-format model folder (config.json, safetensors, tokenizer)", Required = true };
        var mode = new Option<string>("--mode") { Description = "Inner-loop mode: full | truncated | first-order", DefaultValueFactory = _ => "truncated" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object" };
        var coords = new Option<int>("--coordinates") { Description = "Random coordinates compared per kind", DefaultValueFactory = _ => 6 };
        var seed = new Option<long>("--seed") { Description = "Seed of the perturbation and the coordinate choice", DefaultValueFactory = _ => 1 };
        var tol = new Option<double?>("--tolerance") { Description = "Maximum relative error allowed (default 1e-5 for float64, 5e-2 for bf16-mixed)" };
        var dtype = new Option<string>("--dtype") { Description = "float64 (finite differences) | bf16-mixed (vs the float64 analytic gradient)", DefaultValueFactory = _ => "float64" };
        var cmd = new Command("check-gradients", "Compare PERK meta-gradients with central finite differences (float64) or bf16-mixed with float64")
            { model, mode, json, coords, seed, tol, dtype };
        cmd.SetHandler(parse =>
        {
            var m = parse.GetValue(mode)!.ToLowerInvariant() switch
            {
                "full" => InnerLoopMode.Full,
                "truncated" => InnerLoopMode.Truncated,
                "first-order" or "first_order" or "firstorder" => InnerLoopMode.FirstOrder,
                var other => throw new PerkException($"--mode: \"{other}\" is not one of full, truncated, first-order"),
            };
            int n = parse.GetValue(coords);
            if (n < 1) throw new PerkException($"--coordinates must be >= 1 (got {n})");
            string dt = parse.GetValue(dtype)!.ToLowerInvariant();
            if (dt is "bf16-mixed" or "bf16_mixed" or "bf16")
                return CheckGradientsMixed.Execute(parse.GetValue(model)!, m, parse.GetValue(mode)!, parse.GetValue(seed),
                                                   parse.GetValue(tol) ?? MixedPrecisionCheck.Tolerance, parse.GetValue(json));
            if (dt is not ("float64" or "fp64" or "double"))
                throw new PerkException($"--dtype: \"{dt}\" is not one of float64, bf16-mixed");
            double tolerance = parse.GetValue(tol) ?? 1e-5;
            var report = Run(parse.GetValue(model)!, m, n, parse.GetValue(seed), parse.GetValue(json) ? null : Console.Error.WriteLine, tolerance / 10);
            bool ok = Passed(report, m, tolerance);
            if (parse.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["mode"] = parse.GetValue(mode), ["tolerance"] = tolerance, ["passed"] = ok,
                    ["kinds"] = new JsonObject(report.Select(k => new KeyValuePair<string, JsonNode?>(k.Kind, new JsonObject
                    {
                        ["max_relative_error"] = k.MaxRelativeError, ["coordinates"] = k.Coordinates,
                        ["max_abs_gradient"] = k.MaxAbsGradient, ["exactly_zero"] = k.ExactlyZero,
                        ["refined_coordinates"] = k.Refined, ["smallest_step"] = k.SmallestStep, ["unresolved_coordinates"] = k.Unresolved,
                    }))),
                };
                Console.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            }
            else
            {
                foreach (var k in report)
                    Console.WriteLine($"{k.Kind,-16} max relative error {k.MaxRelativeError:E2} over {k.Coordinates} coordinates" +
                                      (k.ExactlyZero ? " (gradient exactly 0)" : $" (max |grad| {k.MaxAbsGradient:E2})") + StepNote(k));
                Console.WriteLine(ok ? $"check-gradients: PASSED ({parse.GetValue(mode)}, tolerance {tolerance:E0})"
                                     : $"check-gradients: FAILED ({parse.GetValue(mode)}, tolerance {tolerance:E0})");
            }
            return ok ? 0 : 1;
        });
        return cmd;
    }

    /// <summary>
    /// Every kind within tolerance; the weighting model's gradient exactly 0 in first-order mode and every other
    /// gradient non-zero (a vanished gradient would make the comparison trivial).
    /// </summary>
    static bool Passed(IReadOnlyList<KindCheck> report, InnerLoopMode mode, double tolerance) =>
        report.All(k => k.MaxRelativeError <= tolerance &&
                        k.ExactlyZero == (mode == InnerLoopMode.FirstOrder && k.Kind == "weighting_model"));

    /// <summary>What the finite differences needed beyond the initial step (nothing when every coordinate converged at once).</summary>
    static string StepNote(KindCheck k) =>
        (k.Refined > 0 ? $"; step refined to {k.SmallestStep:E1} on {k.Refined} steep coordinate(s)" : "") +
        (k.Unresolved > 0 ? $"; {k.Unresolved} coordinate(s) whose finite differences never converged (not smooth at float64 resolution) replaced" : "");

    static IReadOnlyList<KindCheck> Run(string dir, InnerLoopMode mode, int coordinates, long seed, Action<string>? log, double agreement)
    {
        using var checkpoint = HfCheckpoint.Load(dir, ScalarType.Float64);
        var model = checkpoint.Model;
        var settings = GradientCheckProblem.Settings(model.Config);
        var meta = new MetaParameters(model, settings, ScalarType.Float64, seed);
        GradientCheck.Perturb(meta, seed);
        var (context, question) = GradientCheckProblem.Tensors(checkpoint.Tokenizer, model.Config);
        try
        {
            log?.Invoke($"check-gradients: {model.Config.ModelType}, {meta.Lora.Count} LoRA tensors, mode {mode}, {coordinates} coordinates per kind");
            log?.Invoke($"check-gradients: Richardson central differences from h = 1e-6·max(1, |x|), halved until two successive estimates agree to {agreement:E0} of the kind's gradient scale");
            return GradientCheck.Run(model, meta, context, question, mode, coordinates, seed, agreement: agreement);
        }
        finally { foreach (var b in context) b.Dispose(); question.Dispose(); }
    }
}
