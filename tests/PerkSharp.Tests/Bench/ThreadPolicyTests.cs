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
}
