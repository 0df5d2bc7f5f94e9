using TorchSharp;

namespace PerkSharp.Runtime;

/// <summary>Process-wide libtorch setup: thread count and a clear error when the native library cannot load.</summary>
public static class TorchRuntime
{
    static int _initialised;

    /// <summary>Initialise libtorch once; <paramref name="threads"/> &lt;= 0 means all cores.</summary>
    public static void Initialize(int threads = 0)
    {
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
}
