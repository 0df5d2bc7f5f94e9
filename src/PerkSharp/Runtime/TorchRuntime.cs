using System.Runtime.InteropServices;
using TorchSharp;

namespace PerkSharp.Runtime;

/// <summary>Process-wide libtorch setup: thread count and a clear error when the native library cannot load.</summary>
public static class TorchRuntime
{
    static int _initialised;

    /// <summary>Initialise libtorch once; <paramref name="threads"/> &lt;= 0 means all cores.</summary>
    public static void Initialize(int threads = 0)
    {
        NativeDefaults();
        try
        {
            int n = threads > 0 ? threads : Environment.ProcessorCount;
            torch.set_num_threads(n);
            Interlocked.Exchange(ref _initialised, 1);
        }
        catch (TypeInitializationException e)
        {
            throw new PerkException("libtorch could not be loaded (" + (e.InnerException?.Message ?? e.Message).Split('\n')[0] +
                                    "); build with ./perk or dotnet build so the GLIBCXX patch is applied to the output copy");
        }
    }

    public static bool IsInitialised => Volatile.Read(ref _initialised) == 1;

    /// <summary>
    /// Sets OMP_WAIT_POLICY=PASSIVE in the native environment before libtorch (and its libgomp, which reads the
    /// variable once when it loads) is first touched, unless the user set it. libgomp's default spin-waits at every
    /// parallel-region barrier; when other processes compete for the cores, a descheduled thread makes its partner spin
    /// for a whole time slice on every small op. Measured on the 2-core machine under load ~15 (perk bench, 50 tiny
    /// meta-steps, 2 threads): 251 s spinning vs 7.8 s passive (1 thread: 11.4 s). Large GEMMs are unaffected.
    /// Must run before the first torch call; a no-op once libgomp is loaded, and off Linux.
    /// </summary>
    static void NativeDefaults()
    {
        SetNativeDefault("OMP_WAIT_POLICY", "PASSIVE");
        // libtorch (c10 alloc_cpu) aligns allocations of >= 2 MB to 2 MB and madvise(MADV_HUGEPAGE)s them when
        // THP_MEM_ALLOC_ENABLE=1. Large activations (logits [tokens, 50257] are 50-200 MB) are mmapped fresh every
        // step and first-touch page faults took ~20% of meta-step CPU samples (perf, GPT-2-small shapes); with huge
        // pages: page faults 977K -> 422K and CPU time -12% for 2 first-order meta-steps (perk bench-meta, 12 layers).
        SetNativeDefault("THP_MEM_ALLOC_ENABLE", "1");
        KeepFreedMemory();
    }

    /// <summary>
    /// libtorch's CPU allocator is plain malloc/free, and glibc serves blocks over 32 MB (logits and their gradients,
    /// [tokens, 50257]) with a fresh mmap, unmapped again on free: every meta-step then faults in and zeroes hundreds of
    /// MB anew (clear_page was a third of a GPT-2-small meta-step's CPU samples). With mmap off and no trimming, freed
    /// blocks stay in the heap and are reused. The resident size stays at the step's peak between steps; `perk bench`
    /// trims at each phase start (<see cref="Benchmarks.PeakMemory.BeginPhase"/>). Skipped when the user tunes malloc.
    /// </summary>
    static void KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is not null ||
            Environment.GetEnvironmentVariable("MALLOC_MMAP_MAX_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
            return;
        const int M_TRIM_THRESHOLD = -1, M_MMAP_MAX = -4;
        try
        {
            mallopt(M_TRIM_THRESHOLD, int.MaxValue);
            mallopt(M_MMAP_MAX, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* not glibc: its allocator's defaults */ }
    }

    [DllImport("libc")]
    static extern int mallopt(int param, int value);

    static void SetNativeDefault(string name, string value)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(name) is not null) return;
        try { setenv(name, value, 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* no libc setenv: keep the default */ }
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    static extern int setenv(string name, string value, int overwrite);
}
