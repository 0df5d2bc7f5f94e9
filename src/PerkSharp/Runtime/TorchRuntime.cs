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
        PassiveOpenMpWait();
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
    static void PassiveOpenMpWait()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return;
        try { setenv("OMP_WAIT_POLICY", "PASSIVE", 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* no libc setenv: keep the default */ }
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    static extern int setenv(string name, string value, int overwrite);
}
