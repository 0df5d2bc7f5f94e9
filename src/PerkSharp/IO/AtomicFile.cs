using System.Text;
using System.Text.RegularExpressions;

namespace PerkSharp.IO;

/// <summary>
/// Crash-safe writes: content goes to a temporary file in the same folder, is flushed to disk, then renamed over the
/// target, so a killed process leaves either the old file or the new one, never a half-written one.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, TempName(Path.GetFileName(full), "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp"));
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch { /* best effort */ }
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { var b = new UTF8Encoding(false).GetBytes(text); s.Write(b, 0, b.Length); });

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes, 0, bytes.Length));

    /// <summary>
    /// Writes a whole folder atomically: files are written into a sibling temp folder which then replaces
    /// <paramref name="dir"/> (the old folder is moved aside first and deleted after the swap).
    /// </summary>
    public static void WriteDirectory(string dir, Action<string> writeInto)
    {
        string full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, TempName(Path.GetFileName(full), ".tmp-" + Guid.NewGuid().ToString("N")[..8]));
        Directory.CreateDirectory(tmp);
        try
        {
            writeInto(tmp);
            string? old = null;
            if (Directory.Exists(full))
            {
                old = Path.Combine(parent, TempName(Path.GetFileName(full), ".old-" + Guid.NewGuid().ToString("N")[..8]));
                Directory.Move(full, old);
            }
            Directory.Move(tmp, full);
            if (old != null) Directory.Delete(old, recursive: true);
        }
        catch
        {
            try { if (Directory.Exists(tmp)) Directory.Delete(tmp, true); } catch { }
            throw;
        }
    }

    static readonly Regex TempPattern = new(@"^\..*(\.\d+\.[0-9a-f]{8}\.tmp|\.(tmp|old)-[0-9a-f]{8})$", RegexOptions.Singleline);

    /// <summary>True for the names of this class's temporary files and folders (what a killed write leaves behind).</summary>
    public static bool IsTempName(string name) => TempPattern.IsMatch(name);

    /// <summary>
    /// "." + name + suffix, with the name cut short (never mid-character) so the whole stays within the 255-byte
    /// file-name limit: a legal long output name must not fail only when its temp sibling is created.
    /// </summary>
    public static string TempName(string name, string suffix)
    {
        int budget = OutputGuard.MaxNameBytes - 1 - Encoding.UTF8.GetByteCount(suffix);
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(name);
        var kept = new StringBuilder();
        int bytes = 0;
        while (e.MoveNext())
        {
            int n = Encoding.UTF8.GetByteCount(e.GetTextElement());
            if (bytes + n > budget) break;
            kept.Append(e.GetTextElement());
            bytes += n;
        }
        return "." + kept + suffix;
    }
}
