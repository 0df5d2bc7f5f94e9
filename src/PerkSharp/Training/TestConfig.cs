using System.Text.Json.Nodes;

namespace PerkSharp.Training;

/// <summary>
/// The config of an evaluation (`perk eval`, and `perk train` with do_train: false). The base is the checkpoint's own
/// config.yaml, i.e. how it was trained; a test config (--config, or experiment=meta_test) adds only its test-time
/// keys; command-line key=value overrides come last and may set any key, as before. The official meta_test.yaml
/// repeats the training recipe (model, rank, rates) beside its test-time changes, so applying the whole file would
/// replace a checkpoint's shape with the file's; the checkpoint's values are kept and any difference is reported.
/// </summary>
public static class TestConfig
{
    /// <summary>The keys a test config sets for the evaluation itself (configs/meta_test.yaml: inner_grad_accum: 4).</summary>
    public static readonly string[] TestTimeKeys = { "inner_grad_accum", "max_eval_data", "eval_batch_size", "max_new_tokens", "packing" };

    /// <summary>
    /// The keys that decide what a trained checkpoint computes (model, LoRA shape, the inner loop it was meta-trained
    /// with). A test config's value is not used; where it differs from the checkpoint's, the output says so. Other keys
    /// (outer loop, schedule, data, run bookkeeping) have no effect on an evaluation.
    /// </summary>
    public static readonly string[] ModelKeys =
    {
        "method", "model_name_or_path", "lora_rank", "lora_alpha", "lora_dropout", "use_rslora", "lora_top_k_layers", "bf16",
        "n_inner_iter", "inner_lr", "inner_opt", "dyna_lr", "weighted_loss", "weight_non_linearity", "weight_normalize",
        "weight_decay", "adam_epsilon",
    };

    /// <summary>An evaluation's config and where each part came from.</summary>
    /// <param name="Source">The test config's name, or null without one.</param>
    /// <param name="Applied">The test config's test-time keys as key=value.</param>
    /// <param name="Kept">Model keys where the test config differs: "key=checkpoint value (file: its value)".</param>
    public sealed record Merged(TrainConfig Config, string CheckpointDir, string? Source, IReadOnlyList<string> Applied, IReadOnlyList<string> Kept)
    {
        /// <summary>What the output says about the config: one line per part that is there.</summary>
        public IEnumerable<string> Describe()
        {
            if (Source == null) yield break;
            yield return $"config {Source}: test-time settings " + (Applied.Count > 0 ? string.Join(", ", Applied) : "none");
            if (Kept.Count > 0) yield return $"config {Source}: kept the checkpoint's training settings where the file differs: {string.Join(", ", Kept)}";
        }

        /// <summary>The "settings" of metrics.json: which checkpoint and config, and the test-time values used.</summary>
        /// <param name="maxRows">The row cap actually applied per file (--max, else max_eval_data; 0 = all).</param>
        public JsonObject Record(string method, int maxRows)
        {
            var o = new JsonObject { ["checkpoint"] = CheckpointDir, ["config"] = Source, ["method"] = method };
            foreach (var k in TestTimeKeys) o[k] = JsonNode.Parse(TrainConfigLoader.ValueOf(Config, k));
            o["max_eval_data"] = maxRows;
            return o;
        }
    }

    /// <summary>
    /// The config to evaluate <paramref name="checkpoint"/> (a run or checkpoint folder) with: its config.yaml, the
    /// test-time keys that the test config names (<paramref name="config"/>, or experiment=NAME among
    /// <paramref name="overrides"/>), then the other overrides.
    /// </summary>
    public static Merged Read(string checkpoint, string? config, IEnumerable<string>? overrides)
    {
        var source = ConfigSource.Resolve(config, overrides, out var rest);
        var trained = TrainedPerk.ReadConfig(checkpoint, null, out string dir);
        var applied = new List<string>();
        var kept = new List<string>();
        if (source != null)
        {
            var file = source.Load();
            var set = source.KeysSet();
            applied.AddRange(TestTimeKeys.Where(set.Contains).Select(k => $"{k}={TrainConfigLoader.ValueOf(file, k)}"));
            kept.AddRange(ModelKeys.Where(set.Contains)
                .Select(k => (k, mine: TrainConfigLoader.ValueOf(trained, k), theirs: TrainConfigLoader.ValueOf(file, k)))
                .Where(t => t.mine != t.theirs).Select(t => $"{t.k}={t.mine} (file: {t.theirs})"));
        }
        // Test-time keys are numbers and booleans, so they pass through key=value unchanged; the overrides follow.
        var cfg = TrainedPerk.ReadConfig(checkpoint, applied.Concat(rest), out _);
        return new Merged(cfg, dir, source?.Name, applied, kept);
    }
}
