using System.Globalization;
using System.Text.RegularExpressions;

namespace PerkSharp.Runtime;

/// <summary>
/// How much memory a test-time encode may use (`--max-memory`, or a default share of this machine's memory), in bytes.
/// <see cref="EncodeMemory"/> turns it into the most segments one forward/backward may hold.
/// </summary>
public sealed record MemoryBudget(long Bytes, string Source)
{
    /// <summary>Share of the available memory the default budget takes.</summary>
    public const double DefaultShare = 0.5;

    static readonly Regex Size = new(@"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>"4G", "512M", "1.5G", "800k", "2GiB" or plain bytes; binary units (1G = 2^30 bytes).</summary>
    public static MemoryBudget Parse(string text, string option = "--max-memory")
    {
        var m = Size.Match(text ?? "");
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double n))
            throw new PerkException($"{option} {text}: expected a size such as 4G, 512M or 1073741824 (bytes)");
        int shift = "kmgt".IndexOf(char.ToLowerInvariant(m.Groups[2].Value.FirstOrDefault('b'))) + 1;
        double bytes = n * Math.Pow(1024, shift);
        if (bytes < 1 || bytes > long.MaxValue / 2) throw new PerkException($"{option} {text}: expected a size between 1 byte and 4 EB");
        return new MemoryBudget((long)bytes, option + " " + text!.Trim());
    }

    /// <summary>The given option's budget, or the default when it is not given.</summary>
    public static MemoryBudget FromOption(string? given) => given is null ? Default() : Parse(given);

    /// <summary>
    /// Half of what the machine can give now: the smaller of /proc/meminfo's MemAvailable and the .NET runtime's
    /// TotalAvailableMemoryBytes. MemAvailable is the kernel's estimate of what new allocations can get without
    /// swapping, so it already excludes what other processes hold (this machine is shared with other jobs), which
    /// physical memory does not; TotalAvailableMemoryBytes is the container's cgroup limit when there is one, which
    /// /proc/meminfo does not show. Half leaves the other processes room to grow and absorbs the estimate's error.
    /// </summary>
    public static MemoryBudget Default()
    {
        long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long available = MemAvailable() ?? total;
        long basis = Math.Min(total > 0 ? total : long.MaxValue, available);
        return new MemoryBudget((long)(basis * DefaultShare), $"default: {DefaultShare:0%} of {Format(basis)} available");
    }

    /// <summary>MemAvailable from /proc/meminfo in bytes, or null where there is none (not Linux, old kernel).</summary>
    public static long? MemAvailable()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal) &&
                    long.TryParse(line.AsSpan(13).Trim().ToString().Replace(" kB", ""), out long kb))
                    return kb * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>"1.5 GB", "512 MB", "900 KB" (binary units, as <see cref="Parse"/> reads them).</summary>
    public static string Format(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.0} GB" :
        bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0} MB" : $"{Math.Max(1, bytes / 1024)} KB";

    public override string ToString() => $"{Format(Bytes)} ({Source})";
}
