namespace PerkSharp.Tests.Data;

/// <summary>Paths of the repo root and the read-only reference data (../shared/data relative to the root).</summary>
internal static class DataPaths
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>
    /// The reference data folder: $PERK_SHARED_DATA, else ../shared/data beside the repository (the workplace layout).
    /// A clone elsewhere sets PERK_SHARED_DATA (.ci/run does when the folder is not beside the clone).
    /// </summary>
    public static string SharedRoot { get; } = FindShared();

    public static string Shared(params string[] parts) =>
        Path.GetFullPath(Path.Combine(new[] { SharedRoot }.Concat(parts).ToArray()));

    static string FindShared()
    {
        var candidates = new[]
        {
            Environment.GetEnvironmentVariable("PERK_SHARED_DATA"),
            Path.Combine(RepoRoot, "..", "shared", "data"),
        };
        foreach (var c in candidates)
            if (!string.IsNullOrEmpty(c) && Directory.Exists(c)) return Path.GetFullPath(c);
        return Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));   // tests then fail naming this path (set PERK_SHARED_DATA)
    }

    public static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "perk-data-tests-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(d);
        return d;
    }

    static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "PerkSharp.slnx"))) return d.FullName;
        throw new InvalidOperationException("repo root (PerkSharp.slnx) not found above " + AppContext.BaseDirectory);
    }
}
