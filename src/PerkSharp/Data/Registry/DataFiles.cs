namespace PerkSharp.Data;

/// <summary>
/// The .jsonl files under a data root, found without following any symbolic link inside it: a link either leads out
/// of the root (someone else's files) or back into it (a file seen twice, or a loop such as <c>up -> ..</c> that
/// never ends). Walking only real folders visits each real file once and always terminates. The root itself may be
/// a link: the user named it.
/// </summary>
public static class DataFiles
{
    /// <summary>Every real *.jsonl file under <paramref name="root"/>, in ordinal order of their paths.</summary>
    public static List<string> Under(string root) => Under(root, out _);

    /// <param name="skippedLinks">Links seen and not followed (files and folders), for a note to the user.</param>
    public static List<string> Under(string root, out int skippedLinks)
    {
        var files = new List<string>();
        var pending = new Stack<DirectoryInfo>();
        pending.Push(new DirectoryInfo(root));
        skippedLinks = 0;
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            IEnumerable<FileSystemInfo> entries;
            try { entries = dir.EnumerateFileSystemInfos().ToList(); }
            catch (UnauthorizedAccessException) { continue; }                   // unreadable folder: nothing to read there
            foreach (var e in entries)
            {
                if (e.LinkTarget != null) { skippedLinks++; continue; }
                if (e is DirectoryInfo sub) pending.Push(sub);
                else if (e.Name.EndsWith(".jsonl", StringComparison.Ordinal)) files.Add(Path.Combine(root, Path.GetRelativePath(root, e.FullName)));
            }
        }
        files.Sort(StringComparer.Ordinal);
        return files;
    }
}
