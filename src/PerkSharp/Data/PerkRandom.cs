using System.Text;

namespace PerkSharp.Data;

/// <summary>
/// Portable seeded PRNG for the generators: xoshiro256** seeded by SplitMix64. Written here because System.Random's
/// seeded sequence is not a documented contract (it may change between .NET versions); this one is fixed forever.
/// Per-sample streams: <see cref="ForSample"/> = SplitMix64(master ⊕ FNV-1a-64("task|length|split|index")), so one
/// sample can be regenerated alone and adding samples never changes existing ones (docs/DATA.md).
/// </summary>
public sealed class PerkRandom
{
    /// <summary>Default master seed of docs/DATA.md</summary>
    public const ulong DefaultSeed = 20250708;

    ulong _s0, _s1, _s2, _s3;

    public PerkRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x); _s1 = SplitMix64(ref x); _s2 = SplitMix64(ref x); _s3 = SplitMix64(ref x);
    }

    /// <summary>The stream of one sample, independent of every other (task, length, split, index).</summary>
    public static PerkRandom ForSample(ulong masterSeed, string task, string length, string split, long index)
    {
        ulong x = masterSeed ^ Fnv1a64($"{task}|{length}|{split}|{index}");
        return new PerkRandom(SplitMix64(ref x));
    }

    /// <summary>Seed value of <see cref="ForSample"/> (for metadata).</summary>
    public static ulong SampleSeed(ulong masterSeed, string task, string length, string split, long index)
    {
        ulong x = masterSeed ^ Fnv1a64($"{task}|{length}|{split}|{index}");
        return SplitMix64(ref x);
    }

    public static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>FNV-1a 64-bit over the UTF-8 bytes of <paramref name="s"/>.</summary>
    public static ulong Fnv1a64(string s)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 0x100000001B3UL; }
        return h;
    }

    /// <summary>Next 64 random bits (xoshiro256**).</summary>
    public ulong NextU64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform integer in [0, n) without modulo bias (rejection sampling).</summary>
    public int Next(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), "n must be positive");
        ulong un = (ulong)n, limit = ulong.MaxValue - ulong.MaxValue % un;
        ulong v;
        do v = NextU64(); while (v >= limit);
        return (int)(v % un);
    }

    /// <summary>Uniform integer in [lo, hi] inclusive.</summary>
    public int NextInclusive(int lo, int hi) => lo + Next(hi - lo + 1);

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextU64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A fair coin (p = 0.5).</summary>
    public bool Coin() => (NextU64() >> 63) == 1;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
