using System.Diagnostics;
using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.Runtime;
using PerkSharp.Tests.Cli;
using PerkSharp.Training;

namespace PerkSharp.Tests.Reliability;

/// <summary>
/// Crash safety end to end: `perk train` on a tiny random GPT-2 runs as a child process, is killed
/// with SIGKILL at a random moment after its first checkpoint, and is resumed with --resume. The killed run must leave
/// its last checkpoint whole and loadable, and the resumed run's loss trajectory (metrics.jsonl) must equal an
/// uninterrupted run's at every step, before and after the resume point.
/// </summary>
public class KillResumeTests
{
    const int Steps = 40;

    [Fact]
    public void SigkillAfterACheckpointThenResumeReproducesTheUninterruptedLosses()
    {
        TorchRuntime.Initialize(1);
        string root = Path.Combine(Path.GetTempPath(), "perk-kill-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try
        {
            string model = BadInputFixtures.RealModel(Path.Combine(root, "model"), new JsonObject
            {
                ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = 32, ["n_layer"] = 1, ["n_head"] = 4,
                ["n_positions"] = 256, ["eos_token_id"] = 256,
            });
            WriteData(Path.Combine(root, "data", "babilong", "qa1_1k", "train.jsonl"));
            string yamlA = Config(root, "a"), yamlB = Config(root, "b");

            var a = CliRunner.RunIn(root, TimeSpan.FromMinutes(5), "train", "--config", yamlA, "--threads", "1");
            Assert.True(a.ExitCode == 0, a.Stderr);
            var expected = Losses(Path.Combine(root, "run-a", "metrics.jsonl"));
            Assert.Equal(Enumerable.Range(1, Steps).Select(i => (long)i), expected.Keys.Order());

            // Run B: SIGKILL at a random moment once the first checkpoint exists.
            string runB = Path.Combine(root, "run-b"), last = Path.Combine(runB, "checkpoints", "last");
            var stderr = new System.Text.StringBuilder();
            using (var p = Start(root, stderr, "train", "--config", yamlB, "--threads", "1"))
            {
                var clock = Stopwatch.StartNew();
                while (!File.Exists(Path.Combine(last, CheckpointManager.StateFile)))
                {
                    Assert.False(p.HasExited, "training ended before its first checkpoint: " + stderr);
                    Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "no checkpoint after 3 minutes");
                    Thread.Sleep(5);
                }
                Thread.Sleep(Random.Shared.Next(0, 200));
                Assert.False(p.HasExited, "training finished before it could be killed");
                p.Kill();                                            // SIGKILL on Linux
                p.WaitForExit();
            }

            // The killed run's last checkpoint is whole: state readable, tensors load and are finite.
            var state = CheckpointManager.ReadState(last);
            Assert.InRange(state.GlobalStep, 2, Steps - 1);
            var meta = Safetensors.Load(Path.Combine(last, "perk_meta.safetensors"));
            Assert.NotEmpty(meta);
            foreach (var (name, t) in meta) { Assert.True(t.isfinite().all().item<bool>(), name); t.Dispose(); }

            var b = CliRunner.RunIn(root, TimeSpan.FromMinutes(5), "train", "--config", yamlB, "--resume", "--threads", "1");
            Assert.True(b.ExitCode == 0, b.Stderr);
            var actual = Losses(Path.Combine(runB, "metrics.jsonl"));
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (step, losses) in expected)
                Assert.True(losses.SequenceEqual(actual[step]),
                    $"step {step} (resumed after step {state.GlobalStep}): [{string.Join(", ", actual[step])}] != uninterrupted [{string.Join(", ", losses)}]");
            Assert.Equal(Steps, CheckpointManager.ReadState(last).GlobalStep);
        }
        finally { try { Directory.Delete(root, true); } catch { } }
    }

    /// <summary>step -> [outer_loss, inner_loss_0, ...] of the "train" records (the last record of a step wins).</summary>
    static Dictionary<long, double[]> Losses(string metrics)
    {
        var d = new Dictionary<long, double[]>();
        foreach (var o in RunLog.Read(metrics).Where(o => (string?)o["kind"] == "train"))
            d[o["step"]!.GetValue<long>()] = o.Where(kv => kv.Key == "outer_loss" || kv.Key.StartsWith("inner_loss_"))
                .OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value?.GetValue<double>() ?? double.NaN).ToArray();
        return d;
    }

    static string Config(string root, string name)
    {
        string p = Path.Combine(root, name + ".yaml");
        File.WriteAllText(p, Yaml(root, "run-" + name, Steps));
        return p;
    }

    /// <summary>A tiny PERK train config over root/model and root/data writing root/<paramref name="run"/>.</summary>
    internal static string Yaml(string root, string run, int steps) => $"""
        model_name_or_path: {Path.Combine(root, "model")}
        dataset_name: babilong
        dataset_subset: qa1_1k
        data_dir: {Path.Combine(root, "data")}
        output_dir: {Path.Combine(root, run)}
        lora_rank: 2
        lora_alpha: 4
        lora_dropout: 0.1
        n_inner_iter: 2
        unroll_start: 1
        inner_lr: 1e-2
        learning_rate: 1e-2
        num_train_epochs: 5
        max_steps: {steps}
        val_check_interval: 2
        save_top_k: 1
        packing: false
        log_every: 1
        seed: 7
        """;

    /// <summary>Ten tiny bAbI-like examples (three short segments each) in the official layout.</summary>
    internal static void WriteData(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string[] people = { "Mary", "John", "Sandra", "Daniel" }, places = { "kitchen", "garden", "office", "hallway", "bedroom" };
        var rng = new Random(11);
        var lines = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            string who = people[rng.Next(people.Length)], where = places[rng.Next(places.Length)];
            var ctx = new JsonArray($"{people[rng.Next(4)]} went to the {places[rng.Next(5)]}.", $"{who} moved to the {where}.", "The sun was low.");
            lines.Add(new JsonObject { ["context"] = ctx, ["question"] = $"Where is {who}?", ["answer"] = where }.ToJsonString());
        }
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
    }

    internal static Process Start(string dir, System.Text.StringBuilder stderr, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "perk.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}
