using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Runtime;

namespace PerkSharp.IO;

/// <summary>
/// One writer per run folder: an advisory lock file (<see cref="FileName"/>) holding the writer's pid, host and start
/// time. It appears whole (written aside, then linked into place without replacing), so of two writers exactly one
/// gets it, and it is deleted on Dispose. A writer that
/// died without Dispose (SIGKILL, power loss) leaves a stale file: its pid is gone on this host, so the next writer
/// takes it over. A lock from another host cannot be checked and is never taken over.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = ".perk-train.lock";

    readonly string _path;
    bool _released;

    RunLock(string path) => _path = path;

    /// <summary>The lock's holder as written in the file.</summary>
    public sealed record Holder(int Pid, string Host, string Since)
    {
        public override string ToString() => $"pid {Pid} on host {Host} since {Since}";
    }

    /// <summary>Takes the lock on <paramref name="dir"/> (created if missing) or throws a one-line PerkException naming the holder.</summary>
    public static RunLock Acquire(string dir)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, FileName);
        var me = new Holder(Environment.ProcessId, Environment.MachineName,
            DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture));
        // A few rounds only: each round either creates the file, or finds a live holder, or removes one stale file.
        for (int round = 0; round < 8; round++)
        {
            // Written whole under a private name, then linked into place without replacing: a lock file is never
            // seen empty or half-written (which would look like no holder), and of two writers only one gets it.
            string mine = path + ".new-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            File.WriteAllText(mine, new JsonObject { ["pid"] = me.Pid, ["host"] = me.Host, ["since"] = me.Since }.ToJsonString());
            try
            {
                File.Move(mine, path, overwrite: false);
                return new RunLock(path);
            }
            catch (IOException) when (File.Exists(path)) { }
            finally { if (File.Exists(mine)) File.Delete(mine); }

            var holder = Read(path);
            if (holder == null) continue;                                    // removed meanwhile: retry
            if (holder.Pid <= 0)
                throw new PerkException($"{dir}: {FileName} is unreadable; delete it if no perk train is running there");
            if (holder.Host != me.Host || IsAlive(holder.Pid))
                throw new PerkException($"{dir}: another perk train writes this run folder ({holder}); wait for it to finish, " +
                                        $"or delete {FileName} if that process is gone");
            TakeAside(path, holder);
        }
        throw new PerkException($"{dir}: could not take {FileName} (it keeps changing); is another perk train starting here?");
    }

    /// <summary>The holder recorded in <paramref name="path"/>, or null when the file is gone or unreadable.</summary>
    public static Holder? Read(string path)
    {
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            if (o?["pid"] is JsonValue p && p.TryGetValue<int>(out int pid))
                return new Holder(pid, (string?)o["host"] ?? "?", (string?)o["since"] ?? "?");
            return new Holder(-1, Environment.MachineName, "?");             // not a lock this code wrote
        }
        catch (FileNotFoundException) { return null; }
        catch (JsonException) { return new Holder(-1, Environment.MachineName, "?"); }
        catch (IOException) { return null; }
    }

    /// <summary>Whether process <paramref name="pid"/> exists on this host.</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0) return false;
        if (pid == Environment.ProcessId) return true;
        if (OperatingSystem.IsLinux()) return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>
    /// Removes a stale lock by renaming it to a private name first (only one taker's rename succeeds) and checking it
    /// is still the stale one: a live writer's fresh lock that was renamed by mistake is put back.
    /// </summary>
    static void TakeAside(string path, Holder stale)
    {
        string aside = path + ".stale-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try { File.Move(path, aside, overwrite: true); }
        catch (FileNotFoundException) { return; }
        catch (IOException) { return; }
        var moved = Read(aside);
        if (moved != null && moved.Pid != stale.Pid && moved.Pid > 0 && IsAlive(moved.Pid))
        {
            try { File.Move(aside, path, overwrite: false); } catch (IOException) { }
            return;
        }
        try { File.Delete(aside); } catch (IOException) { }
    }

    public void Dispose()
    {
        if (_released) return;
        _released = true;
        // Only our own lock is removed: a file naming someone else is theirs.
        if (Read(_path) is { } h && h.Pid == Environment.ProcessId && h.Host == Environment.MachineName)
            try { File.Delete(_path); } catch (IOException) { }
    }
}
