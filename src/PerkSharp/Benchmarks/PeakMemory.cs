using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace PerkSharp.Benchmarks;

/// <summary>
/// Resident-memory readings from /proc/self/status (Linux): VmRSS (now) and VmHWM (peak since start or last reset).
/// A phase's peak is measured in-process: <see cref="BeginPhase"/> collects the .NET heap, returns freed native
/// pages to the kernel (glibc malloc_trim, since libtorch's CPU allocator is plain malloc/free) and resets VmHWM to
/// the current RSS by writing "5" to /proc/self/clear_refs (Linux ≥ 4.0). Without the trim, pages freed by the
/// previous phase but kept by malloc would be reused silently and hide part of the next phase's peak; without the
/// reset, VmHWM would keep the largest earlier phase. Where clear_refs is not writable, <see cref="CanResetPeak"/>
/// is false and phase peaks fall back to sampling VmRSS (see <see cref="Sample"/>).
/// </summary>
public static class PeakMemory
{
    static readonly Regex Field = new(@"^(VmRSS|VmHWM):\s+(\d+)\s+kB", RegexOptions.Multiline | RegexOptions.Compiled);
    static long _sampledPeak;

    /// <summary>True where the status file exists (Linux).</summary>
    public static bool Supported => File.Exists("/proc/self/status");

    /// <summary>Current resident set size in bytes (0 where unsupported).</summary>
    public static long Rss => Read().Rss;

    /// <summary>Peak resident set size since start or the last reset, in bytes.</summary>
    public static long Hwm => Read().Hwm;

    public static (long Rss, long Hwm) Read()
    {
        if (!Supported) return (0, 0);
        long rss = 0, hwm = 0;
        foreach (Match m in Field.Matches(File.ReadAllText("/proc/self/status")))
        {
            long bytes = long.Parse(m.Groups[2].Value) * 1024;
            if (m.Groups[1].Value == "VmRSS") rss = bytes; else hwm = bytes;
        }
        return (rss, hwm);
    }

    /// <summary>Whether VmHWM can be reset (probed once).</summary>
    public static bool CanResetPeak => _canReset ??= ProbeReset();
    static bool? _canReset;

    static bool ProbeReset()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Starts a phase: trims the heaps, resets the peak and returns the resident baseline in bytes.</summary>
    public static long BeginPhase()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Trim();
        if (CanResetPeak) File.WriteAllText("/proc/self/clear_refs", "5");
        long rss = Rss;
        _sampledPeak = rss;
        return rss;
    }

    /// <summary>Records the current RSS into the sampled peak (needed only where VmHWM cannot be reset).</summary>
    public static void Sample()
    {
        long rss = Rss;
        if (rss > _sampledPeak) _sampledPeak = rss;
    }

    /// <summary>Peak resident bytes since <see cref="BeginPhase"/>.</summary>
    public static long PhasePeak => CanResetPeak ? Read().Hwm : _sampledPeak;

    /// <summary>Returns free malloc pages to the kernel (glibc only; a no-op elsewhere).</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { malloc_trim(UIntPtr.Zero); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* musl: nothing to trim */ }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int malloc_trim(UIntPtr pad);

    public static string Mb(long bytes) => $"{bytes / 1048576.0:0.0} MB";
}
