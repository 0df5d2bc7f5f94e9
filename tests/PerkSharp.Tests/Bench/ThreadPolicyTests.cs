using System.Runtime.InteropServices;

namespace PerkSharp.Tests.Bench;

public class ThreadPolicyTests
{
    [DllImport("libc", CharSet = CharSet.Ansi)]
    static extern IntPtr getenv(string name);

    [Fact]
    public void InitializeAsksLibgompForPassiveWaitingUnlessTheUserChose()
    {
        if (!OperatingSystem.IsLinux()) return;
        string? user = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        Runtime.TorchRuntime.Initialize();
        // libgomp reads the native environment (not .NET's copy), so that is where the policy must be.
        string? native = Marshal.PtrToStringAnsi(getenv("OMP_WAIT_POLICY"));
        Assert.Equal(user ?? "PASSIVE", native);
    }

    [Fact]
    public void InitializeAsksLibtorchForHugePageAllocationsUnlessTheUserChose()
    {
        if (!OperatingSystem.IsLinux()) return;
        string? user = Environment.GetEnvironmentVariable("THP_MEM_ALLOC_ENABLE");
        Runtime.TorchRuntime.Initialize();
        Assert.Equal(user ?? "1", Marshal.PtrToStringAnsi(getenv("THP_MEM_ALLOC_ENABLE")));
    }

    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2 { public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost; }

    [DllImport("libc")]
    static extern MallInfo2 mallinfo2();

    [Fact]
    public void InitializeKeepsLargeTensorsInTheMallocHeapInsteadOfFreshMmaps()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is not null ||
            Environment.GetEnvironmentVariable("MALLOC_MMAP_MAX_") is not null) return;
        Runtime.TorchRuntime.Initialize();
        MallInfo2 before;
        try { before = mallinfo2(); }
        catch (EntryPointNotFoundException) { return; }                   // not glibc >= 2.33
        // 48 MB: above glibc's largest mmap threshold (32 MB), so by default it would be a fresh mmap, zeroed by the
        // kernel on every allocation; below a thread arena's heap size (64 MB), so the heap can hold it.
        using var big = TorchSharp.torch.ones(12L << 20);
        Assert.Equal(1.0f, big[-1].item<float>());
        long mmapped = (long)mallinfo2().Hblkhd - (long)before.Hblkhd;
        Assert.True(mmapped < 16L << 20, $"{mmapped >> 20} MB of new mmapped chunks");
    }
}
