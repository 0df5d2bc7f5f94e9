using System.Diagnostics;

namespace PerkSharp.Runtime;

/// <summary>
/// A one-line progress bar on stderr with rate, ETA and a free-text status (e.g. live losses). On a non-terminal
/// stderr (CI logs) it prints a plain line every few seconds instead of redrawing, and so it does while bars of
/// other threads are live (<see cref="Lanes"/>), since two redrawing bars would overwrite each other.
/// </summary>
public sealed class Progress : IDisposable
{
    readonly string _label;
    readonly long _total;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly bool _interactive = !Console.IsErrorRedirected;
    readonly TextWriter _out;
    long _done;
    double _lastPrint = -1e9;
    string _status = "";
    bool _open = true;
    static int s_live;

    public Progress(string label, long total, TextWriter? output = null)
    {
        _label = label; _total = Math.Max(total, 1); _out = output ?? Console.Error;
        Interlocked.Increment(ref s_live);
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Report(long done, string status = "")
    {
        _done = done; _status = status;
        double t = _clock.Elapsed.TotalSeconds;
        bool last = done >= _total;
        bool redraw = _interactive && Volatile.Read(ref s_live) == 1;
        if (!last && t - _lastPrint < (redraw ? 0.2 : 5.0)) return;
        _lastPrint = t;
        _out.Write((redraw ? "\r" : "") + Line() + (redraw && !last ? "" : "\n"));
        _out.Flush();
    }

    public void Advance(string status = "") => Report(_done + 1, status);

    string Line()
    {
        double t = _clock.Elapsed.TotalSeconds;
        double frac = Math.Min(1.0, _done / (double)_total);
        int width = 24, filled = (int)(frac * width);
        string bar = new string('#', filled) + new string('.', width - filled);
        double eta = _done > 0 ? t / _done * (_total - _done) : double.NaN;
        return $"{_label} [{bar}] {_done}/{_total} {Fmt(t)} elapsed, ETA {(double.IsNaN(eta) ? "?" : Fmt(eta))} {_status}".TrimEnd();
    }

    public static string Fmt(double seconds) =>
        seconds >= 3600 ? $"{(int)(seconds / 3600)}h{(int)(seconds % 3600 / 60):00}m" :
        seconds >= 60 ? $"{(int)(seconds / 60)}m{(int)(seconds % 60):00}s" : $"{seconds:0.0}s";

    public void Dispose()
    {
        if (!_open) return;
        _open = false;
        if (_interactive && Volatile.Read(ref s_live) == 1 && _done < _total) { _out.WriteLine(); _out.Flush(); }
        Interlocked.Decrement(ref s_live);
    }
}
