using System.Text;
using PerkSharp.Runtime;

namespace PerkSharp.IO;

/// <summary>
/// A kind of folder a command writes whole (a memory, an evaluation, a model, ...): the entry names it may hold
/// ("*.png" matches by ending) and, for folders of folders, the kind of its subfolders. A folder whose every entry is
/// one of these (or a temp file left by a killed <see cref="AtomicFile"/> write) is recognisably this kind.
/// </summary>
public sealed record OutputKind(string Name, IReadOnlyList<string> Files, OutputKind? Subfolders = null)
{
    /// <summary>"a memory", "an evaluation": the name with its article, for messages.</summary>
    public string A => ("aeiou".Contains(char.ToLowerInvariant(Name[0])) ? "an " : "a ") + Name;

    public bool Owns(string fileName) => Files.Any(f => f.StartsWith('*')
        ? fileName.EndsWith(f[1..], StringComparison.Ordinal)
        : fileName == f) || AtomicFile.IsTempName(fileName);
}

/// <summary>
/// Nothing a user has is ever lost: every output path is checked before any work starts. A folder a command writes
/// whole must be new, empty, or recognisably the same kind of artefact — and replacing one of those needs --force.
/// Files a command writes into someone else's folder (a report, generated data) must not exist yet, or need --force.
/// Errors are one-line <see cref="PerkException"/>s.
/// </summary>
public static class OutputGuard
{
    /// <summary>The longest file or folder name Linux (ext4, xfs, btrfs, tmpfs) and macOS take, in bytes.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>Checks <paramref name="path"/> before a command replaces it with a folder of <paramref name="kind"/>.</summary>
    public static void Folder(string path, OutputKind kind, bool force)
    {
        CheckPath(path);
        if (File.Exists(path)) throw new PerkException($"{path}: is a file, not a folder; choose a new or empty folder for {kind.A}");
        if (!Directory.Exists(path) || !Directory.EnumerateFileSystemEntries(path).Any()) return;
        if (Foreign(path, kind) is string entry)
            throw new PerkException($"{path}: not empty and not {kind.A} (it holds \"{entry}\"); nothing was written, choose a new or empty folder");
        if (!force) throw new PerkException($"{path}: already holds {kind.A} (use --force to replace it)");
    }

    /// <summary>
    /// Checks a folder a command only adds subfolders to (an evaluation root): new, empty, or holding nothing but
    /// <paramref name="kind"/>'s entries. Nothing in it is replaced here, so no --force is involved.
    /// </summary>
    public static void Into(string path, OutputKind kind)
    {
        CheckPath(path);
        if (File.Exists(path)) throw new PerkException($"{path}: is a file, not a folder; choose a new or empty folder for {kind.A}");
        if (Directory.Exists(path) && Foreign(path, kind) is string entry)
            throw new PerkException($"{path}: not empty and not {kind.A} (it holds \"{entry}\"); nothing was written, choose a new or empty folder");
    }

    /// <summary>Checks files a command writes (atomically) into a folder it does not own: each is new, or replaced with force.</summary>
    public static void Files(IEnumerable<string> paths, bool force)
    {
        foreach (var p in paths)
        {
            CheckPath(p);
            if (Directory.Exists(p)) throw new PerkException($"{p}: is a folder (nothing was written)");
            if (File.Exists(p) && !force) throw new PerkException($"{p}: already exists (use --force to replace it)");
        }
    }

    /// <summary>
    /// Every name in the path fits the file-name limit, and no existing ancestor is a regular file — both would
    /// otherwise only fail when the output is written, after the work.
    /// </summary>
    static void CheckPath(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new PerkException("the output path is empty");
        string full = Path.GetFullPath(path);
        foreach (var name in full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
            if (Encoding.UTF8.GetByteCount(name) is var n && n > MaxNameBytes)
                throw new PerkException($"{path}: the name \"{name[..Math.Min(24, name.Length)]}...\" is {n} bytes long; names are limited to {MaxNameBytes} bytes");
        for (string? a = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar)); a != null; a = Path.GetDirectoryName(a))
        {
            if (Directory.Exists(a)) break;
            if (File.Exists(a)) throw new PerkException($"{path}: {a} is a file, not a folder");
        }
    }

    /// <summary>The first entry (ordinal order, so messages are stable) that is not <paramref name="kind"/>'s, or null.</summary>
    static string? Foreign(string dir, OutputKind kind)
    {
        foreach (var e in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(e);
            bool own = Directory.Exists(e)
                ? kind.Subfolders is { } sub && Foreign(e, sub) == null
                : kind.Owns(name);
            if (!own) return Directory.Exists(e) ? name + "/" : name;
        }
        return null;
    }
}
