using PerkSharp.Training;
using PerkSharp.Runtime;
using TorchSharp;

namespace PerkSharp.Tests.Training;

public class CheckpointTests
{
    static string TempRun() => Path.Combine(Path.GetTempPath(), "perk-ckpt-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void KeepsBestKByValLossPlusLast()
    {
        TorchRuntime.Initialize();
        string run = TempRun();
        try
        {
            var m = new CheckpointManager(run, topK: 2);
            using var w = torch.ones(3);
            var losses = new[] { 3.0, 2.0, 2.5, 1.0 };
            for (int i = 0; i < losses.Length; i++)
                m.Save(new TrainerState { GlobalStep = (i + 1) * 10 }, losses[i], new[] { ("w", w) },
                    d => File.WriteAllText(Path.Combine(d, "payload.txt"), $"step {(i + 1) * 10}"));
            var best = m.Best();
            Assert.Equal(new[] { 40L, 20L }, best.Select(b => b.Step));
            var dirs = Directory.GetDirectories(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).OrderBy(x => x).ToArray();
            Assert.Equal(new[] { "last", "step-000020", "step-000040" }, dirs);            // no temp or old folders left
            Assert.Equal("step 40", File.ReadAllText(Path.Combine(run, "checkpoints", "last", "payload.txt")));
            Assert.EndsWith("step-000040", CheckpointManager.Resolve(run));
            Assert.EndsWith("last", CheckpointManager.Resolve(run, preferLast: true));
            Assert.Equal(40, CheckpointManager.ReadState(CheckpointManager.Resolve(run)).GlobalStep);
        }
        finally { if (Directory.Exists(run)) Directory.Delete(run, true); }
    }

    [Fact]
    public void AFailedWriteLeavesThePreviousCheckpointWholeAndNoPartialFolder()
    {
        TorchRuntime.Initialize();
        string run = TempRun();
        try
        {
            var m = new CheckpointManager(run, topK: 3);
            using var w = torch.ones(3);
            m.Save(new TrainerState { GlobalStep = 1 }, 1.0, new[] { ("w", w) }, d => File.WriteAllText(Path.Combine(d, "a.bin"), "old"));
            // A crash in the middle of writing the payload (simulated by an exception after a first file).
            Assert.Throws<IOException>(() => m.Save(new TrainerState { GlobalStep = 2 }, 0.5, new[] { ("w", w) }, d =>
            {
                File.WriteAllText(Path.Combine(d, "a.bin"), "new-partial");
                throw new IOException("disk full");
            }));
            Assert.Equal("old", File.ReadAllText(Path.Combine(run, "checkpoints", "last", "a.bin")));
            Assert.Equal(new[] { 1L }, m.Best().Select(b => b.Step));
            Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(run, "checkpoints")), d => Path.GetFileName(d).StartsWith('.'));
            Assert.False(Directory.Exists(Path.Combine(run, "checkpoints", "step-000002")));
        }
        finally { if (Directory.Exists(run)) Directory.Delete(run, true); }
    }

    [Fact]
    public void RefusesNonFiniteTensorsBeforeWritingAnything()
    {
        TorchRuntime.Initialize();
        string run = TempRun();
        try
        {
            var m = new CheckpointManager(run, topK: 3);
            using var bad = torch.tensor(new[] { 1f, float.NaN });
            bool wrote = false;
            var e = Assert.Throws<NonFiniteException>(() => m.Save(new TrainerState { GlobalStep = 5 }, 0.1, new[] { ("lora.A.3", bad) }, _ => wrote = true));
            Assert.Contains("lora.A.3", e.Message);
            Assert.False(wrote);
            Assert.False(Directory.Exists(Path.Combine(run, "checkpoints", "last")));
        }
        finally { if (Directory.Exists(run)) Directory.Delete(run, true); }
    }

    [Fact]
    public void DataOrderIsAPureFunctionOfSeedAndEpoch()
    {
        var a = DataOrder.Permutation(42, 0, 50);
        Assert.Equal(a, DataOrder.Permutation(42, 0, 50));
        Assert.Equal(Enumerable.Range(0, 50), a.OrderBy(x => x));                    // a permutation
        Assert.NotEqual(a, DataOrder.Permutation(42, 1, 50));
        Assert.NotEqual(a, DataOrder.Permutation(7, 0, 50));
        Assert.Equal(DataOrder.StepSeed(42, 17), DataOrder.StepSeed(42, 17));
        Assert.NotEqual(DataOrder.StepSeed(42, 17), DataOrder.StepSeed(42, 18));
        Assert.Equal((2, 3), DataOrder.Locate(23, 10));
    }

    [Fact]
    public void RunLogCutsBackToTheResumedStep()
    {
        TorchRuntime.Initialize();
        string run = TempRun();
        try
        {
            using (var log = new RunLog(run, tensorBoard: false))
                for (int s = 1; s <= 5; s++) log.Write(s, "train", new Dictionary<string, double> { ["outer_loss"] = s });
            using (var log = new RunLog(run, resumeStep: 3, tensorBoard: true))
                log.Write(4, "train", new Dictionary<string, double> { ["outer_loss"] = 40, ["nan"] = double.NaN });
            var rows = RunLog.Read(Path.Combine(run, "metrics.jsonl"));
            Assert.Equal(new long[] { 1, 2, 3, 4 }, rows.Select(r => (long)r["step"]!));
            Assert.Equal(40.0, (double)rows[3]["outer_loss"]!);
            Assert.Null(rows[3]["nan"]);
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "tb"), "events.out.tfevents.*"));
        }
        finally { if (Directory.Exists(run)) Directory.Delete(run, true); }
    }
}
