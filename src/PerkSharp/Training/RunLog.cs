using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;

namespace PerkSharp.Training;

/// <summary>
/// The metrics of a run folder: one JSON object per line in <c>metrics.jsonl</c> (every value also goes to a
/// TensorBoard event file under <c>tb/</c>, the wandb replacement). On resume the JSONL is cut back to the resumed
/// step, so a killed-and-resumed run leaves the same metrics file as an uninterrupted one.
/// </summary>
public sealed class RunLog : IDisposable
{
    readonly string _path;
    readonly StreamWriter _jsonl;
    readonly TorchSharp.Modules.SummaryWriter? _tb;

    /// <param name="runDir">The run folder.</param>
    /// <param name="resumeStep">When resuming: keep only lines whose "step" is &lt;= this; null starts a fresh file.</param>
    /// <param name="tensorBoard">Also write TensorBoard events.</param>
    public RunLog(string runDir, long? resumeStep = null, bool tensorBoard = true)
    {
        Directory.CreateDirectory(runDir);
        _path = Path.Combine(runDir, "metrics.jsonl");
        var keep = new List<string>();
        if (resumeStep is long s && File.Exists(_path))
            foreach (var line in File.ReadLines(_path))
            {
                long step;
                try { step = JsonNode.Parse(line)?["step"]?.GetValue<long>() ?? long.MaxValue; }
                catch (JsonException) { continue; }                   // a torn last line of a killed run
                if (step <= s) keep.Add(line);
            }
        IO.AtomicFile.WriteAllText(_path, keep.Count == 0 ? "" : string.Join("\n", keep) + "\n");
        _jsonl = new StreamWriter(new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        if (tensorBoard) _tb = torch.utils.tensorboard.SummaryWriter(Path.Combine(runDir, "tb"));
    }

    /// <summary>Appends one record: {"step": step, "kind": kind, ...values}.</summary>
    public void Write(long step, string kind, IReadOnlyDictionary<string, double> values)
    {
        var o = new JsonObject { ["step"] = step, ["kind"] = kind };
        foreach (var (k, v) in values) o[k] = double.IsFinite(v) ? v : null;    // JSON has no NaN
        _jsonl.WriteLine(o.ToJsonString());
        if (_tb == null) return;
        long wall = DateTimeOffset.UtcNow.ToUnixTimeSeconds();                   // TensorBoard wall time: seconds
        foreach (var (k, v) in values)
            if (double.IsFinite(v)) _tb.add_scalar($"{kind}/{k}", (float)v, (int)Math.Min(step, int.MaxValue), wall);
    }

    /// <summary>Reads a metrics.jsonl back (for reports and tests).</summary>
    public static List<JsonObject> Read(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();

    public static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    public void Dispose() => _jsonl.Dispose();
}
