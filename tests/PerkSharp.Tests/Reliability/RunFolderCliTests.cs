using System.Diagnostics;
using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.Tests.Cli;
using PerkSharp.Training;

namespace PerkSharp.Tests.Reliability;

/// <summary>
/// One writer per run folder, through the real CLI: a second `perk train` on a folder in use stops at once naming the
/// holder, a stale lock (dead pid) is taken over, SIGTERM checkpoints the last finished step and --resume continues
/// from it, and --resume --stop-after at or past the reached step trains nothing.
/// </summary>
public class RunFolderCliTests
{
    const int Steps = 30;

    static string Setup(string tag)
    {
        string root = Path.Combine(Path.GetTempPath(), "perk-" + tag + "-" + Guid.NewGuid().ToString("N")[..8]);
        BadInputFixtures.RealModel(Path.Combine(root, "model"), new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = 32, ["n_layer"] = 1, ["n_head"] = 4,
            ["n_positions"] = 256, ["eos_token_id"] = 256,
        });
        KillResumeTests.WriteData(Path.Combine(root, "data", "babilong", "qa1_1k", "train.jsonl"));
        File.WriteAllText(Path.Combine(root, "a.yaml"), KillResumeTests.Yaml(root, "run", Steps));
        return root;
    }

    static string[] Train(string root, params string[] rest) =>
        new[] { "train", "--config", Path.Combine(root, "a.yaml"), "--threads", "1" }.Concat(rest).ToArray();

    static List<long> TrainSteps(string runDir) =>
        RunLog.Read(Path.Combine(runDir, "metrics.jsonl")).Where(o => (string?)o["kind"] == "train").Select(o => o["step"]!.GetValue<long>()).ToList();

    static void Signal(int pid, string sig) => Process.Start("kill", new[] { "-" + sig, pid.ToString() })!.WaitForExit();

    static void WaitFor(Process p, Func<bool> condition, System.Text.StringBuilder stderr)
    {
        var clock = Stopwatch.StartNew();
        while (!Try(condition))
        {
            Assert.False(p.HasExited, "train ended early: " + stderr);
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "gave up waiting: " + stderr);
            Thread.Sleep(5);
        }
    }

    static bool Try(Func<bool> condition)
    {
        try { return condition(); }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or InvalidCastException) { return false; }   // a line being written
    }

    [Fact]
    public void ASecondTrainOnAFolderInUseStopsAtOnceNamingTheHolderAndTheFirstCompletesUnmixed()
    {
        PerkSharp.Runtime.TorchRuntime.Initialize(1);
        string root = Setup("lock");
        string run = Path.Combine(root, "run"), lockFile = Path.Combine(run, RunLock.FileName);
        try
        {
            var err = new System.Text.StringBuilder();
            using var first = KillResumeTests.Start(root, err, Train(root));
            WaitFor(first, () => File.Exists(lockFile), err);
            Signal(first.Id, "STOP");                    // the holder cannot finish while the second one tries
            CliRunner.Result second;
            try { second = CliRunner.RunIn(root, TimeSpan.FromMinutes(2), Train(root, "seed=8")); }
            finally { Signal(first.Id, "CONT"); }
            Assert.NotEqual(0, second.ExitCode);
            var lines = second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, second.Stderr);  // stopped before loading data or model
            Assert.Contains($"pid {first.Id} on host {Environment.MachineName} since ", lines[0]);

            first.WaitForExit();
            Assert.True(first.ExitCode == 0, err.ToString());
            Assert.Equal(Enumerable.Range(1, Steps).Select(i => (long)i), TrainSteps(run));
            Assert.Contains("seed: 7\n", File.ReadAllText(Path.Combine(run, "config.yaml")));
            Assert.False(File.Exists(lockFile), "the lock outlived the run");
        }
        finally { try { Directory.Delete(root, true); } catch { } }
    }

    [Fact]
    public void AStaleLockOfADeadProcessIsTakenOver()
    {
        PerkSharp.Runtime.TorchRuntime.Initialize(1);
        string root = Setup("stale");
        string run = Path.Combine(root, "run");
        try
        {
            using var gone = Process.Start("true")!;
            gone.WaitForExit();
            Assert.False(Directory.Exists("/proc/" + gone.Id));
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, RunLock.FileName),
                new JsonObject { ["pid"] = gone.Id, ["host"] = Environment.MachineName, ["since"] = "yesterday" }.ToJsonString());
            var r = CliRunner.RunIn(root, TimeSpan.FromMinutes(3), Train(root, "max_steps=2"));
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(new long[] { 1, 2 }, TrainSteps(run));
            Assert.False(File.Exists(Path.Combine(run, RunLock.FileName)));
        }
        finally { try { Directory.Delete(root, true); } catch { } }
    }

    [Fact]
    public void SigtermCheckpointsTheLastFinishedStepAndResumeContinuesFromIt()
    {
        PerkSharp.Runtime.TorchRuntime.Initialize(1);
        string root = Setup("term");
        string run = Path.Combine(root, "run"), last = Path.Combine(run, "checkpoints", "last");
        try
        {
            var err = new System.Text.StringBuilder();
            using (var p = KillResumeTests.Start(root, err, Train(root, "val_check_interval=1000")))
            {
                // No checkpoint before the end except the one SIGTERM writes: wait for the first logged step.
                WaitFor(p, () => File.Exists(Path.Combine(run, "metrics.jsonl")) && TrainSteps(run).Count > 0, err);
                Signal(p.Id, "TERM");
                p.WaitForExit();
                Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}: {err}");
            }
            long at = CheckpointManager.ReadState(last).GlobalStep;
            Assert.InRange(at, 1, Steps - 1);
            Assert.Contains($"interrupted; step {at} is checkpointed", err.ToString());
            Assert.Equal(Enumerable.Range(1, (int)at).Select(i => (long)i), TrainSteps(run));
            Assert.False(File.Exists(Path.Combine(run, RunLock.FileName)));

            var r = CliRunner.RunIn(root, TimeSpan.FromMinutes(3), Train(root, "val_check_interval=1000", "--resume"));
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(Enumerable.Range(1, Steps).Select(i => (long)i), TrainSteps(run));
        }
        finally { try { Directory.Delete(root, true); } catch { } }
    }

    [Fact]
    public void ResumeWithStopAfterAtTheReachedStepTrainsNothingMore()
    {
        PerkSharp.Runtime.TorchRuntime.Initialize(1);
        string root = Setup("stop");
        string run = Path.Combine(root, "run");
        try
        {
            var a = CliRunner.RunIn(root, TimeSpan.FromMinutes(3), Train(root, "--stop-after", "3"));
            Assert.True(a.ExitCode == 0, a.Stderr);
            foreach (string n in new[] { "3", "2" })
            {
                var b = CliRunner.RunIn(root, TimeSpan.FromMinutes(3), Train(root, "--resume", "--stop-after", n));
                Assert.True(b.ExitCode == 0, b.Stderr);
                Assert.Contains("train: 3 steps", b.Stdout);
                Assert.Equal(new long[] { 1, 2, 3 }, TrainSteps(run));
                Assert.Equal(3, CheckpointManager.ReadState(Path.Combine(run, "checkpoints", "last")).GlobalStep);
            }
        }
        finally { try { Directory.Delete(root, true); } catch { } }
    }
}
