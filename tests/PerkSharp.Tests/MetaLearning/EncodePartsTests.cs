using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>
/// Bounded-memory encoding (src/PerkSharp/MetaLearning/ContextParts.cs, src/PerkSharp/Runtime/EncodeMemory.cs): an
/// encode that fits is bit-identical to the whole micro-batches, parts of a micro-batch give its result up to
/// rounding, and the part size follows the budget.
/// </summary>
public class EncodePartsTests
{
    public EncodePartsTests() => TorchRuntime.Initialize(1);

    static readonly CharTokenizer Tok = new();

    /// <summary>Eleven segments of different lengths, so parts pad differently from their micro-batch.</summary>
    static readonly string[] Context = Enumerable.Range(0, 11)
        .Select(i => string.Join(' ', Enumerable.Repeat($"fact {i} about room {i % 4}.", 1 + i % 3))).ToArray();

    static PerkSystem System(Func<PerkSettings, PerkSettings>? edit = null, ScalarType dtype = ScalarType.Float64)
    {
        var config = TinyModels.Gpt2Config();
        config.MaxPositionEmbeddings = 1024;                                   // a packed micro-batch is one row of all its tokens
        var model = TinyModels.Create(config, dtype);
        var s = TinyModels.Settings(config, x => x with { InnerSteps = 3, TestAccumulation = 2 });
        var meta = new MetaParameters(model, edit is null ? s : edit(s), dtype, 21);
        GradientCheck.Perturb(meta, 21);
        return new PerkSystem(model, Tok, meta, "tiny-gpt2");
    }

    static List<Tensor> Weights(PerkSystem system, Func<InnerLoopResult> run, long seed)
    {
        manual_seed(seed);
        using var r = run();
        Assert.All(r.FastWeights, t => Assert.True(t.is_leaf));              // no graph survives a test-time step
        return r.FastWeights.Select(t => t.detach().clone()).ToList();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnEncodeThatFitsIsBitIdenticalToTheWholeMicroBatches(bool dropout)
    {
        var system = System(s => s with { TrainDropout = dropout, Lora = s.Lora with { Dropout = dropout ? 0.2 : 0 } }, ScalarType.Float32);
        var seqs = PerkBatcher.Context(Context, Tok, 257, 1024);
        var batches = PerkBatcher.MicroBatches(seqs, 2, packed: false, Tok.PadId);
        try
        {
            var whole = Weights(system, () => InnerLoop.Run(system.Model, system.Meta, batches, InnerLoopMode.Evaluation, dropout), 5);
            Assert.Equal(2, system.Parts(seqs, 2, 0).PartsPerStep);                  // whole micro-batches
            var unbudgeted = Weights(system, () => InnerLoop.Run(system.Model, system.Meta, system.Parts(seqs, 2, 0), dropout), 5);
            system.Budget = new MemoryBudget(1L << 40, "test");
            var budgeted = Weights(system, () => InnerLoop.Run(system.Model, system.Meta, system.Parts(seqs, 2, 0), dropout), 5);
            manual_seed(5);
            system.EncodeProgress = TextWriter.Null;                               // progress changes nothing
            using var memory = system.Encode(Context, dropout: dropout);
            for (int i = 0; i < whole.Count; i++)
            {
                Assert.True(whole[i].eq(unbudgeted[i]).all().item<bool>(), $"tensor {i} without a budget");
                Assert.True(whole[i].eq(budgeted[i]).all().item<bool>(), $"tensor {i} under a budget it fits");
                Assert.True(whole[i].eq(memory.FastWeights[i]).all().item<bool>(), $"tensor {i} of Encode");
            }
        }
        finally { foreach (var b in batches) b.Dispose(); }
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void PartsOfAMicroBatchGiveItsResultUpToRounding(bool packed, bool weighted)
    {
        var system = System(s => s with { Packing = packed, WeightedLoss = weighted });
        var seqs = PerkBatcher.Context(Context, Tok, 257, 1024);
        var whole = new ContextParts(seqs, 2, packed, Tok.PadId);
        using var reference = InnerLoop.Run(system.Model, system.Meta, whole, dropout: false);
        foreach (int rows in new[] { 1, 4 })
        {
            var parts = new ContextParts(seqs, 2, packed, Tok.PadId, rowsPerPart: rows);
            Assert.Equal(2, parts.Chunks);
            Assert.Equal(rows == 1 ? 11 : 4, parts.PartsPerStep);              // chunks of 6 and 5 segments
            using var split = InnerLoop.Run(system.Model, system.Meta, parts, dropout: false);
            for (int i = 0; i < reference.Losses.Count; i++)
                Assert.True(Math.Abs(reference.Losses[i] - split.Losses[i]) <= 1e-12 * Math.Abs(reference.Losses[i]), $"loss {i}, {rows} rows per part");
            for (int i = 0; i < reference.FastWeights.Count; i++)
            {
                double diff = (reference.FastWeights[i] - split.FastWeights[i]).abs().max().ToDouble();
                Assert.True(diff < 1e-10, $"tensor {i}, {rows} rows per part: {diff}");
            }
        }
    }

    [Fact]
    public void ThePartShrinksWithTheBudgetAndOneSegmentTooManyIsRefused()
    {
        var system = System();
        var seqs = PerkBatcher.Context(Enumerable.Range(0, 64).Select(i => $"segment {i} says that the key is in room {i}.").ToList(), Tok, 257, 1024);
        var config = system.Model.Config;
        long length = seqs.Max(q => q.Ids.Length);
        long fixedBytes = EncodeMemory.Fixed(EncodeMemory.WeightBytes(system.Model), 0);
        int Rows(long activationBytes) => EncodeMemory.RowsPerPart(new MemoryBudget(fixedBytes + activationBytes, "test"), system.Model,
            system.Settings, seqs, accumulation: 1, documentBytes: 0);
        Assert.Equal(int.MaxValue, Rows(EncodeMemory.Part(config, 64, length)));   // all 64 fit: whole, as without a budget
        var rows = new[] { 32, 16, 8, 4, 2, 1 }.Select(r => Rows(EncodeMemory.Part(config, r, length))).ToList();
        Assert.Equal(new[] { 32, 16, 8, 4, 2, 1 }, rows);
        Assert.Equal(4, Rows(EncodeMemory.Part(config, 7, length)));           // powers of two: 7 fit, 4 are used
        var e = Assert.Throws<PerkException>(() => Rows(EncodeMemory.Part(config, 1, length) - 1));
        Assert.Contains("even one segment at a time", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // Longer segments and more layers cost more; second-order steps keep their graphs.
        Assert.True(EncodeMemory.Part(config, 1, 2 * length) > 2 * EncodeMemory.Part(config, 1, length));
        long once = EncodeMemory.Part(config, 1, length);
        Assert.InRange(EncodeMemory.Part(config, 1, length, secondOrderSteps: 2, chunks: 2), 5 * once - 5, 5 * once + 5);
    }

    [Fact]
    public void BudgetsParseInBinaryUnitsAndBadOnesAreOneLine()
    {
        Assert.Equal(4L << 30, MemoryBudget.Parse("4G").Bytes);
        Assert.Equal(512L << 20, MemoryBudget.Parse("512M").Bytes);
        Assert.Equal(3L << 29, MemoryBudget.Parse("1.5g").Bytes);
        Assert.Equal(2L << 30, MemoryBudget.Parse("2GiB").Bytes);
        Assert.Equal(800L << 10, MemoryBudget.Parse("800KB").Bytes);
        Assert.Equal(123456789, MemoryBudget.Parse("123456789").Bytes);
        foreach (var bad in new[] { "4X", "-1G", "", "G", "1e3", "0" })
        {
            var e = Assert.Throws<PerkException>(() => MemoryBudget.Parse(bad));
            Assert.StartsWith("--max-memory", e.Message);
        }
        var d = MemoryBudget.Default();
        Assert.InRange(d.Bytes, 1, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        Assert.StartsWith("default", d.Source);
    }
}
