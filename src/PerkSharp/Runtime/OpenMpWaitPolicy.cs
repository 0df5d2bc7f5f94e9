using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PerkSharp.Runtime;

/// <summary>
/// libtorch's OpenMP threads spin-wait between parallel regions by default. On a shared or oversubscribed CPU that
/// spinning starves every other thread: a tiny-model meta-step measured 26 ms with passive waiting and 1–2 s (CPU time
/// 30x) with the default, 2 threads, under load. This sets GOMP_SPINCOUNT=0 (libgomp's own knob, read when the library
/// loads) before any libtorch code runs, unless the user already chose OMP_WAIT_POLICY or GOMP_SPINCOUNT.
/// .NET's Environment.SetEnvironmentVariable does not reach the native environment on Unix, hence setenv.
/// </summary>
static class OpenMpWaitPolicy
{
    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    [ModuleInitializer]
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") != null || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") != null) return;
        try { SetEnv("GOMP_SPINCOUNT", "0", 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* not glibc: keep the default */ }
    }
}
