using PerkSharp.Runtime;
using TorchSharp;

namespace PerkSharp.Tests.Foundation;

public class NativeLoadTests
{
    [Fact]
    public void TorchSharpInitialisesInTheTestProcess()
    {
        // Fails with a TypeInitializationException (GLIBCXX_3.4.32) if the build did not patch the test output copy.
        TorchRuntime.Initialize();
        using var x = torch.arange(4, dtype: torch.float32);
        Assert.Equal(6.0f, x.sum().item<float>());
        Assert.Equal(Environment.ProcessorCount, torch.get_num_threads());
    }

    [Fact]
    public void LibTorchSharpCopyInOutputHasWeakGlibcxxRequirement()
    {
        string so = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(File.Exists(so), so);
        // vna_flags is read back by the same rule the build step uses: the entry must carry VER_FLG_WEAK.
        Assert.True(ElfProbe.IsVersionWeak(File.ReadAllBytes(so), "GLIBCXX_3.4.32"));
    }
}
