using PerkSharp.MetaLearning;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <summary>
/// init_from (a curriculum stage starts from another run's meta-parameters) and train_batch_size step accounting
/// (B examples per meta-step: ceil(n / B) steps per epoch, every example used once per epoch).
/// </summary>
[Collection(SerialCollection.Name)]
public class CurriculumTests
{
    static Dictionary<string, float[]> Snapshot(MetaParameters meta) =>
        meta.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().data<float>().ToArray());

    [Fact]
    public void Init_from_starts_the_run_from_the_other_runs_best_meta_parameters()
    {
        string root = TinyRun.TempDir("curriculum");
        try
        {
            string baseDir = TinyRun.BaseModelFolder(root);
            using var bm = BaseModel.Load(baseDir);
            string a = Path.Combine(root, "a");
            Dictionary<string, float[]> trained;
            using (var t = new MetaTrainer(TinyRun.Config(baseDir, a), bm.Model, bm.Tokenizer, a, baseDir))
            {
                t.Run(TinyRun.Examples(4, 1), TinyRun.Examples(2, 2), progressOut: TextWriter.Null);
                PerkCheckpoint.LoadMeta(CheckpointManager.Resolve(a), t.Meta);
                trained = Snapshot(t.Meta);
            }
            // The second stage starts from the first stage's best: after one outer AdamW step (warmup 0: lr 1e-2, first
            // step ≈ lr·sign) every parameter is within one step of the loaded value, far from the fresh init.
            string b = Path.Combine(root, "b");
            Dictionary<string, float[]> after;
            using (var tb = new MetaTrainer(TinyRun.Config(baseDir, b, $"init_from={a}", "max_steps=1"), bm.Model, bm.Tokenizer, b, baseDir))
            {
                var fresh = Snapshot(tb.Meta);
                // Stage a moved some parameter well beyond the tolerance below, or the test would prove nothing.
                Assert.Contains(fresh, kv => kv.Value.Zip(trained[kv.Key]).Any(x => Math.Abs(x.First - x.Second) > 0.03));
                tb.Run(TinyRun.Examples(4, 3), TinyRun.Examples(2, 2), progressOut: TextWriter.Null);
                after = Snapshot(tb.Meta);
            }
            foreach (var (name, v) in trained)
                for (int i = 0; i < v.Length; i++)
                    Assert.True(Math.Abs(after[name][i] - v[i]) <= 1.1e-2 + 1e-2 * Math.Abs(v[i]), $"{name}[{i}]: {after[name][i]} vs {v[i]}");
        }
        finally { Directory.Delete(root, true); }
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 6)]
    [InlineData(5, 2)]
    public void Batched_training_takes_ceil_n_over_B_steps_per_epoch(int batch, long expectedSteps)
    {
        string root = TinyRun.TempDir("batchsteps");
        try
        {
            string baseDir = TinyRun.BaseModelFolder(root);
            using var bm = BaseModel.Load(baseDir);
            string dir = Path.Combine(root, "r");
            var losses = new List<double>();
            using var t = new MetaTrainer(TinyRun.Config(baseDir, dir, $"train_batch_size={batch}", $"eval_batch_size={batch}"), bm.Model, bm.Tokenizer, dir, baseDir)
            { OnStep = (_, r) => losses.Add(r.OuterLoss) };
            var s = t.Run(TinyRun.Examples(5, 1), TinyRun.Examples(2, 2), progressOut: TextWriter.Null);   // 5 examples x 2 epochs
            Assert.Equal(expectedSteps, s.Steps);
            Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        }
        finally { Directory.Delete(root, true); }
    }
}
