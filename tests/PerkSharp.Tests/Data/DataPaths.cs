namespace PerkSharp.Tests.Data;

/// <summary>Paths of the repo root and the read-only reference data (../shared/data relative to the root).</summary>
internal static class DataPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Shared(params string[] parts) =>
        Path.GetFullPath(Path.Combine(new[] { RepoRoot, "..", "shared", "data" }.Concat(parts).ToArray()));

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
