using PerkSharp.MetaLearning;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <remarks>Serial: bit-exact loss comparisons; a land run failed when a parallel test changed libtorch's thread count mid-run.</remarks>
[Collection(SerialCollection.Name)]
public class ResumeTests
{
    static (List<double> Losses, TrainSummary Summary) Train(string baseDir, string runDir, bool resume, long? stopAfter)
    {
        using var bm = BaseModel.Load(baseDir);
        var cfg = TinyRun.Config(baseDir, runDir);
        var losses = new List<double>();
        using var trainer = new MetaTrainer(cfg, bm.Model, bm.Tokenizer, runDir, baseDir) { OnStep = (_, r) => losses.Add(r.OuterLoss) };
        var s = trainer.Run(TinyRun.Examples(4, 1), TinyRun.Examples(2, 2), resume, stopAfter, TextWriter.Null);
        return (losses, s);
    }

    [Fact]
    public void StoppedAndResumedRunGivesTheSameSubsequentLossesAsAnUninterruptedOne()
    {
        string root = TinyRun.TempDir("resume");
        try
        {
            string baseDir = TinyRun.BaseModelFolder(root);
            var (full, fs) = Train(baseDir, Path.Combine(root, "full"), resume: false, stopAfter: null);
            Assert.Equal(8, full.Count);                                         // 4 examples x 2 epochs
            Assert.Equal(8, fs.Steps);

            var (first, s1) = Train(baseDir, Path.Combine(root, "split"), resume: false, stopAfter: 3);
            Assert.Equal(3, s1.Steps);
            var (rest, s2) = Train(baseDir, Path.Combine(root, "split"), resume: true, stopAfter: null);
            Assert.Equal(8, s2.Steps);
            Assert.Equal(full.Take(3), first);
            Assert.Equal(full.Skip(3), rest);                                    // bit-identical: optimizer, schedule, order, RNG restored
            Assert.Equal(fs.BestValLoss, s2.BestValLoss);
            // The metrics file of the resumed run equals the uninterrupted one's (resume cuts it back to the checkpoint).
            var a = RunLog.Read(Path.Combine(root, "full", "metrics.jsonl")).Where(r => (string)r["kind"]! == "train").Select(r => (double)r["outer_loss"]!);
            var b = RunLog.Read(Path.Combine(root, "split", "metrics.jsonl")).Where(r => (string)r["kind"]! == "train").Select(r => (double)r["outer_loss"]!);
            Assert.Equal(a, b);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void ResumeAfterTheLastCheckpointRedoesTheLostStepsIdentically()
    {
        // A kill between checkpoints loses the steps after the last one; resuming replays them exactly.
        string root = TinyRun.TempDir("resume2");
        try
        {
            string baseDir = TinyRun.BaseModelFolder(root);
            var (full, _) = Train(baseDir, Path.Combine(root, "full"), false, null);
            Train(baseDir, Path.Combine(root, "cut"), false, 5);                 // checkpoints at 2, 4 (validation) and 5 (stop)
            // Simulate losing step 5: put the step-4 checkpoint back as "last".
            var ckpt = Path.Combine(root, "cut", "checkpoints");
            Directory.Delete(Path.Combine(ckpt, "last"), true);
            TinyRun.CopyDirectory(Path.Combine(ckpt, "step-000004"), Path.Combine(ckpt, "last"));
            var (rest, _) = Train(baseDir, Path.Combine(root, "cut"), true, null);
            Assert.Equal(full.Skip(4), rest);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void FreshRunRefusesToOverwriteAndResumeNeedsACheckpoint()
    {
        string root = TinyRun.TempDir("resume3");
        try
        {
            string baseDir = TinyRun.BaseModelFolder(root);
            var e = Assert.Throws<Runtime.PerkException>(() => Train(baseDir, Path.Combine(root, "none"), resume: true, stopAfter: null));
            Assert.Contains("nothing to resume", e.Message);
            Train(baseDir, Path.Combine(root, "r"), false, 1);
            e = Assert.Throws<Runtime.PerkException>(() => Train(baseDir, Path.Combine(root, "r"), resume: false, stopAfter: null));
            Assert.Contains("--resume", e.Message);
        }
        finally { Directory.Delete(root, true); }
    }
}
