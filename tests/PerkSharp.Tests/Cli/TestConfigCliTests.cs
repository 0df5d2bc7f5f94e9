using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PerkSharp.Tests.Evaluation;
using PerkSharp.Tests.Reliability;
using PerkSharp.Tests.Training;

namespace PerkSharp.Tests.Cli;

/// <summary>
/// The seed's two entry points on a tiny trained run: `perk eval --config` evaluates with a test config's test-time
/// settings, `perk train` with a test config (do_train: false) evaluates the run in output_dir and trains nothing,
/// experiment=meta_test is --config configs/meta_test.yaml, and the mistakes are one line each.
/// </summary>
public class TestConfigCliTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    static string MetaTest => Path.Combine(TrainConfigTests.RepoRoot(), "configs", "meta_test.yaml");

    /// <summary>A copy of the trained fixture whose ten examples are also its test split.</summary>
    static string NewRoot()
    {
        string root = TrainedRunFixture.CopyTo(TinyRun.TempDir("testcfg"));
        string qa1 = Path.Combine(root, "data", "babilong", "qa1_1k");
        File.Copy(Path.Combine(qa1, "train.jsonl"), Path.Combine(qa1, "test.jsonl"));
        return root;
    }

    static CliRunner.Result Perk(string root, params string[] args) => CliRunner.RunIn(root, Timeout, args.Append("--threads").Append("1").ToArray());

    static JsonObject Settings(string evalDir) => JsonNode.Parse(File.ReadAllText(Path.Combine(evalDir, "metrics.json")))!["settings"]!.AsObject();

    static List<string> Answers(string evalDir) => File.ReadAllLines(Path.Combine(evalDir, "outputs.jsonl")).Where(l => l.Length > 0)
        .Select(l => JsonNode.Parse(l)!).Select(o => $"{o["guid"]} {o["output"]} {o["em"]} {o["f1"]} {o["subem"]}").ToList();

    static Dictionary<string, string> Snapshot(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void Eval_uses_the_test_configs_settings_and_key_value_overrides_win()
    {
        string root = NewRoot();
        try
        {
            string run = Path.Combine(root, "run"), data = Path.Combine(root, "data"), yaml = Path.Combine(root, "test.yaml");
            // A test config: two test-time keys, a model key that differs from the checkpoint's, a training-only key.
            File.WriteAllText(yaml, "inner_grad_accum: 2\nmax_eval_data: 3\nlora_rank: 256\nlearning_rate: 0.5\n");
            string e0 = Path.Combine(root, "e0"), e1 = Path.Combine(root, "e1"), e2 = Path.Combine(root, "e2");
            var plain = Perk(root, "eval", "--checkpoint", run, "--data", data, "--out", e0);
            var file = Perk(root, "eval", "--checkpoint", run, "--data", data, "--out", e1, "--config", yaml);
            var over = Perk(root, "eval", "--checkpoint", run, "--data", data, "--out", e2, "--config", yaml, "inner_grad_accum=1", "max_eval_data=5");
            foreach (var r in new[] { plain, file, over }) Assert.True(r.ExitCode == 0, r.Stderr);

            // Without a test config: the checkpoint's own settings, every row.
            Assert.Equal(10, Answers(e0).Count);
            Assert.Equal((1, 3000), ((int)Settings(e0)["inner_grad_accum"]!, (int)Settings(e0)["max_eval_data"]!));
            Assert.Null(Settings(e0)["config"]);

            // With it: its test-time keys; the checkpoint's rank kept and named; learning_rate not mentioned.
            Assert.Equal(3, Answers(e1).Count);
            var s1 = Settings(e1);
            Assert.Equal((2, 3, yaml), ((int)s1["inner_grad_accum"]!, (int)s1["max_eval_data"]!, (string)s1["config"]!));
            Assert.Equal(Path.Combine(run, "checkpoints", "last"), (string)s1["checkpoint"]!);
            Assert.Contains($"eval: config {yaml}: test-time settings inner_grad_accum=2, max_eval_data=3\n", file.Stderr);
            Assert.Contains("kept the checkpoint's training settings where the file differs: lora_rank=2 (file: 256)\n", file.Stderr);
            Assert.DoesNotContain("learning_rate", file.Stderr);
            Assert.Contains("max_eval_data 3: the first 3 of 10 rows", file.Stderr);

            // key=value on the command line wins over the file.
            Assert.Equal(5, Answers(e2).Count);
            Assert.Equal((1, 5), ((int)Settings(e2)["inner_grad_accum"]!, (int)Settings(e2)["max_eval_data"]!));

            // EM, F1 and SubEM in the files and in the printed table.
            MetricTrio.AssertEverywhere(e1);
            MetricTrio.AssertTable(file.Stdout);
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public void Train_with_meta_test_evaluates_the_run_in_output_dir_trains_nothing_and_experiment_meta_test_is_the_same()
    {
        string root = NewRoot();
        try
        {
            string run = Path.Combine(root, "run"), data = Path.Combine(root, "data");
            var before = Snapshot(run);
            var r = Perk(root, "train", "--config", MetaTest, $"output_dir={run}", $"data_dir={data}");
            Assert.True(r.ExitCode == 0, r.Stderr);
            string last = Path.Combine(run, "checkpoints", "last"), test = Path.Combine(data, "babilong", "qa1_1k", "test.jsonl");
            Assert.Contains($"has do_train: false: evaluating instead of training; checkpoint {last} ", r.Stdout);
            Assert.Contains($"data {test} (babilong/qa1_1k/test)", r.Stdout);

            // Nothing trained: every file of the run is as it was, and the only new files are the evaluation's.
            var after = Snapshot(run);
            Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
            string evalDir = Path.Combine(run, "eval", "perk_babilong_qa1_1k_test");
            Assert.All(after.Keys.Except(before.Keys), f => Assert.StartsWith(Path.Combine("eval", "perk_babilong_qa1_1k_test") + Path.DirectorySeparatorChar, f));
            Assert.Equal(10, Answers(evalDir).Count);
            var s = Settings(evalDir);
            Assert.Equal((4, MetaTest), ((int)s["inner_grad_accum"]!, (string)s["config"]!));
            Assert.Contains("lora_rank=2 (file: 256)", r.Stderr);
            MetricTrio.AssertEverywhere(evalDir);

            // The short form: the same evaluation (answers and settings), the embedded copy named as such.
            var answers = Answers(evalDir);
            var e = Perk(root, "train", "experiment=meta_test", $"output_dir={run}", $"data_dir={data}", "--force");
            Assert.True(e.ExitCode == 0, e.Stderr);
            Assert.Equal(answers, Answers(evalDir));
            var se = Settings(evalDir);
            Assert.Equal("configs/meta_test.yaml (experiment=meta_test)", (string)se["config"]!);
            se.Remove("config"); s.Remove("config");
            Assert.Equal(s.ToJsonString(), se.ToJsonString());

            // And perk eval with it evaluates alike.
            string e3 = Path.Combine(root, "e3");
            var ev = Perk(root, "eval", "experiment=meta_test", "--checkpoint", run, "--data", test, "--out", e3);
            Assert.True(ev.ExitCode == 0, ev.Stderr);
            Assert.Equal(answers, Answers(e3));
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public void Mistakes_are_one_line_each()
    {
        string root = TinyRun.TempDir("testcfg-err");
        try
        {
            string yaml = Path.Combine(root, "no_load.yaml"), empty = Path.Combine(root, "empty");
            File.WriteAllText(yaml, "do_train: false\n");
            Directory.CreateDirectory(empty);
            const string known = "known: meta_train (configs/meta_train.yaml), meta_test (configs/meta_test.yaml)";
            var cases = new (string[] Args, string Expected)[]
            {
                (new[] { "train", "experiment=foo" }, "experiment=foo: unknown experiment; " + known),
                (new[] { "eval", "experiment=foo", "--checkpoint", empty, "--data", empty }, "experiment=foo: unknown experiment; " + known),
                (new[] { "train", "experiment=meta_test", $"output_dir={empty}" }, "configs/meta_test.yaml (experiment=meta_test): no checkpoint to load: load_checkpoint: true loads the run in output_dir"),
                (new[] { "train", "--config", yaml }, $"{yaml}: do_train: false evaluates a trained run and needs load_checkpoint: true"),
                (new[] { "train", "--config", yaml, "experiment=meta_train" }, $"experiment=meta_train and --config {yaml}: give one of them"),
            };
            foreach (var (args, expected) in cases)
            {
                var r = Perk(root, args);
                Assert.Equal(2, r.ExitCode);
                Assert.Contains("error: " + expected, r.Stderr);
                Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
            Assert.Equal(new[] { "empty", "no_load.yaml" }, Directory.GetFileSystemEntries(root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }
}
