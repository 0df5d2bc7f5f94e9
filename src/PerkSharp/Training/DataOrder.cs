namespace PerkSharp.Training;

/// <summary>
/// The training data order and all per-step randomness as pure functions of (seed, epoch, step). Nothing random is
/// carried from one meta-step to the next, so a resumed run only needs the global step counter to continue exactly:
/// the example order of each epoch, each example's doc-id permutation and the dropout seed are recomputed, not restored.
/// (System.Random is avoided: its sequence is not specified across .NET versions; SplitMix64 is.)
/// </summary>
public static class DataOrder
{
    /// <summary>The order of <paramref name="count"/> training examples in <paramref name="epoch"/> (Fisher–Yates).</summary>
    public static int[] Permutation(int seed, int epoch, int count)
    {
        var order = Enumerable.Range(0, count).ToArray();
        ulong state = Mix((ulong)(uint)seed, 0x45504F4348UL ^ (ulong)epoch);            // "EPOCH"
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)(Next(ref state) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>A seed for everything random inside global meta-step <paramref name="step"/> (doc ids, dropout).</summary>
    public static long StepSeed(int seed, long step) => (long)(Mix((ulong)(uint)seed, 0x53544550UL ^ (ulong)step) >> 1); // "STEP"

    /// <summary>A System.Random for one step's doc-id shuffle (PerkFormat.DocIds takes a Random).</summary>
    public static Random StepRandom(int seed, long step) => new((int)(StepSeed(seed, step) & 0x7FFFFFFF));

    /// <summary>
    /// The doc-id shuffle of example <paramref name="j"/> of step <paramref name="step"/>'s batch: the step's own
    /// stream for j = 0 (so batch size 1 is unchanged), an independent one per further example.
    /// </summary>
    public static Random ExampleRandom(int seed, long step, int j) =>
        j == 0 ? StepRandom(seed, step) : new((int)(Mix((ulong)StepSeed(seed, step), 0x4558414DUL ^ (ulong)j) & 0x7FFFFFFF)); // "EXAM"

    /// <summary>Maps a global step to (epoch, index within the epoch's permutation).</summary>
    public static (int Epoch, int Index) Locate(long step, int examplesPerEpoch) =>
        ((int)(step / examplesPerEpoch), (int)(step % examplesPerEpoch));

    static ulong Mix(ulong a, ulong b)
    {
        ulong s = a * 0x9E3779B97F4A7C15UL ^ b;
        return Next(ref s);
    }

    /// <summary>SplitMix64.</summary>
    static ulong Next(ref ulong s)
    {
        ulong z = s += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
