using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Evaluation;

/// <summary>
/// An evaluation folder (<see cref="EvalFolder"/>) written row by row, so that a killed `perk eval` continues where
/// it stopped (`--resume`) and never redoes a finished row. First <see cref="EvalFolder.Settings"/> (what is evaluated:
/// checkpoint, data, method, config), then after every batch its failures and then its outputs are appended to
/// failures.jsonl and outputs.jsonl and flushed to disk, and last metrics.json, whose presence marks the folder done.
/// On resume, only lines ending in a newline count (a torn last line is dropped); the finished rows are the longest
/// prefix of the data's rows found in order (outputs by guid, failures by file line), cut back to a batch start so
/// that every later batch holds the rows, and draws the seeds, of an uninterrupted run (EvalHarness seeds per batch);
/// the files are cut to those rows. The finished folder is then byte for byte what an uninterrupted run writes,
/// apart from the measured times.
/// </summary>
public sealed class EvalJournal
{
    readonly string _dir;
    readonly Action? _begin;

    EvalJournal(string dir, int done, bool finished, List<EvalRecord> records, List<EvalFolder.Failure> failures, Action? begin)
    {
        _dir = dir; Done = done; Finished = finished; Records = records; Failures = failures; _begin = begin;
    }

    /// <summary>Rows already finished (scored or failed), from the first: where the evaluation continues.</summary>
    public int Done { get; }

    /// <summary>True when metrics.json is there: nothing is left to evaluate.</summary>
    public bool Finished { get; }

    /// <summary>The outputs of the finished rows, in order; appended to as batches finish.</summary>
    public List<EvalRecord> Records { get; }

    /// <summary>The finished rows that could not be evaluated, in order; appended to as batches finish.</summary>
    public List<EvalFolder.Failure> Failures { get; }

    /// <summary>One row of the data as the journal identifies it: its guid and its file line (or "row N").</summary>
    public sealed record Row(string Guid, string Line);

    /// <summary>
    /// Checks <paramref name="dir"/> before any model loads, writing nothing (<see cref="Begin"/> does). Fresh (no
    /// <paramref name="resume"/>): the folder must be new, empty, or an evaluation replaced with
    /// <paramref name="force"/>. With resume: an unfinished evaluation of the same <paramref name="settings"/>
    /// continues, a finished one is reused, a new or empty folder starts fresh; other settings are refused in one line.
    /// </summary>
    public static EvalJournal Open(string dir, JsonObject settings, bool resume, bool force, IReadOnlyList<Row> rows, int batchSize)
    {
        if (resume && force) throw new PerkException("give --resume (continue an evaluation) or --force (start it over), not both");
        bool existing = Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any();
        if (!resume || !existing)
        {
            if (existing && !force && File.Exists(Path.Combine(dir, EvalFolder.Settings)) && !File.Exists(Path.Combine(dir, EvalFolder.Metrics)))
                throw new PerkException($"{dir}: holds an unfinished evaluation (use --resume to continue it, or --force to start it over)");
            OutputGuard.Folder(dir, EvalFolder.Kind, force);
            return new EvalJournal(dir, 0, false, new List<EvalRecord>(), new List<EvalFolder.Failure>(), () =>
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);  // only an evaluation's own files (checked)
                Directory.CreateDirectory(dir);
                AtomicFile.WriteAllText(Path.Combine(dir, EvalFolder.Settings), settings.ToJsonString(Indented));
                File.WriteAllBytes(Path.Combine(dir, EvalFolder.Outputs), Array.Empty<byte>());
            });
        }
        OutputGuard.Folder(dir, EvalFolder.Kind, force: true);                    // an evaluation, not someone's folder
        CheckSettings(dir, settings);
        var outputs = CompleteLines(Path.Combine(dir, EvalFolder.Outputs));
        var failed = CompleteLines(Path.Combine(dir, EvalFolder.Failures));
        var records = outputs.Lines.Select((l, i) => Parse(l, i, dir, EvalFolder.Outputs, EvalRecord.FromJson)).ToList();
        var failures = failed.Lines.Select((l, i) => Parse(l, i, dir, EvalFolder.Failures, JsonFailure)).ToList();
        bool finished = File.Exists(Path.Combine(dir, EvalFolder.Metrics));
        // The finished prefix: row i is done when the next unread output is its guid or the next failure its line.
        int done = 0, o = 0, f = 0;
        for (; done < rows.Count; done++)
        {
            if (o < records.Count && records[o].Guid == rows[done].Guid) o++;
            else if (f < failures.Count && failures[f].Line == rows[done].Line && failures[f].Guid == rows[done].Guid) f++;
            else break;
        }
        if (finished && (done < rows.Count || o < records.Count || f < failures.Count))
            throw new PerkException($"{dir}: its {EvalFolder.Outputs} does not match the data's rows although the evaluation finished; use --force to start it over");
        if (done < rows.Count) done -= done % batchSize;                      // back to a batch start
        int keptOutputs = 0, keptFailures = 0;
        for (int i = 0, oo = 0; i < done; i++)
            if (oo < records.Count && records[oo].Guid == rows[i].Guid) { oo++; keptOutputs++; }
            else keptFailures++;
        return new EvalJournal(dir, done, finished, records.Take(keptOutputs).ToList(), failures.Take(keptFailures).ToList(), finished ? null : () =>
        {
            Truncate(Path.Combine(dir, EvalFolder.Outputs), outputs, keptOutputs, deleteWhenEmpty: false);
            Truncate(Path.Combine(dir, EvalFolder.Failures), failed, keptFailures, deleteWhenEmpty: true);
        });
    }

    /// <summary>Starts writing: a fresh folder is cleared and gets its settings, a resumed one loses its unfinished batch.</summary>
    public void Begin() => _begin?.Invoke();

    /// <summary>
    /// Appends one finished batch: its failures, then its outputs, each in one write flushed to disk (a kill between
    /// them leaves failures of a batch without its outputs, which resume drops with the unfinished batch).
    /// </summary>
    public void Append(IReadOnlyList<EvalFolder.Failure> failures, IReadOnlyList<EvalRecord> records)
    {
        if (failures.Count > 0) AppendLines(EvalFolder.Failures, failures.Select(FailureJson));
        if (records.Count > 0) AppendLines(EvalFolder.Outputs, records.Select(r => r.ToJson()));
        Failures.AddRange(failures);
        Records.AddRange(records);
    }

    /// <summary>Writes metrics.json over all finished rows: the folder is complete.</summary>
    /// <param name="record">What produced the rows (checkpoint, config, test-time values): metrics.json "settings".</param>
    public void Finish(JsonObject? record = null)
    {
        var metrics = EvalSummary.Compute(Records);
        metrics["failed"] = Failures.Count;
        if (record != null) metrics["settings"] = record.DeepClone();
        AtomicFile.WriteAllText(Path.Combine(_dir, EvalFolder.Metrics), metrics.ToJsonString(Indented));
    }

    /// <summary>The settings of an evaluation as recorded in its folder: what --resume compares.</summary>
    public static JsonObject Settings(string checkpointDir, string baseDir, string data, IReadOnlyList<Data.PerkExample> examples,
                                      string method, JsonObject methodOptions, string split, int max, IEnumerable<string> overrides, string config)
    {
        var o = new JsonObject
        {
            ["format"] = 1,
            ["checkpoint"] = Path.GetFullPath(checkpointDir), ["checkpoint_weights"] = WeightsFingerprint.Of(checkpointDir),
            ["base_model"] = Path.GetFullPath(baseDir), ["base_weights"] = WeightsFingerprint.Of(baseDir),
            ["data"] = Path.GetFullPath(data), ["split"] = split, ["max"] = max,
            ["rows"] = examples.Count, ["rows_sha256"] = RowsHash(examples),
            ["method"] = method, ["method_options"] = methodOptions,
            ["overrides"] = new JsonArray(overrides.Order(StringComparer.Ordinal).Select(x => (JsonNode?)x).ToArray()),
            ["config"] = config,
        };
        return o;
    }

    static string RowsHash(IReadOnlyList<Data.PerkExample> examples) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(examples)));

    /// <summary>Refuses, naming the first setting that differs, a folder evaluated otherwise (or by an older perk).</summary>
    static void CheckSettings(string dir, JsonObject settings)
    {
        string path = Path.Combine(dir, EvalFolder.Settings);
        if (!File.Exists(path))
            throw new PerkException($"{dir}: has no {EvalFolder.Settings}, so what it evaluated is unknown; use --force to start it over");
        JsonObject? saved;
        try { saved = JsonNode.Parse(File.ReadAllText(path)) as JsonObject; }
        catch (JsonException) { saved = null; }
        if (saved is null) throw new PerkException($"{path}: unreadable; use --force to start the evaluation over");
        foreach (var (key, value) in settings)
        {
            string now = value?.ToJsonString() ?? "null", then = saved[key]?.ToJsonString() ?? "null";
            if (now != then)
                throw new PerkException($"{dir}: was evaluated with other settings ({key}: {Short(then)}, now {Short(now)}); " +
                                        "resume with the same checkpoint, data, method and overrides, or use --force to start over");
        }
    }

    static string Short(string s) => s.Length <= 80 ? s : s[..60] + "...";

    /// <summary>The newline-terminated lines of a file and the byte length they take (a torn last line is left out).</summary>
    static (List<string> Lines, List<long> Ends) CompleteLines(string path)
    {
        var lines = new List<string>();
        var ends = new List<long>();
        if (!File.Exists(path)) return (lines, ends);
        var bytes = File.ReadAllBytes(path);
        int start = 0;
        for (int i = 0; i < bytes.Length; i++)
            if (bytes[i] == (byte)'\n')
            {
                lines.Add(Encoding.UTF8.GetString(bytes, start, i - start));
                ends.Add(i + 1);
                start = i + 1;
            }
        return (lines, ends);
    }

    /// <summary>
    /// Cuts a file to its first <paramref name="keep"/> lines (untouched when nothing is cut); failures.jsonl goes when
    /// empty, as an uninterrupted run without failures writes none.
    /// </summary>
    static void Truncate(string path, (List<string> Lines, List<long> Ends) file, int keep, bool deleteWhenEmpty)
    {
        if (!File.Exists(path)) return;
        if (keep == 0 && deleteWhenEmpty) { File.Delete(path); return; }
        long length = keep == 0 ? 0 : file.Ends[keep - 1];
        if (new FileInfo(path).Length == length) return;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
        fs.SetLength(length);
        fs.Flush(flushToDisk: true);
    }

    void AppendLines(string file, IEnumerable<string> lines)
    {
        var bytes = new UTF8Encoding(false).GetBytes(string.Concat(lines.Select(l => l + "\n")));
        using var fs = new FileStream(Path.Combine(_dir, file), FileMode.Append, FileAccess.Write, FileShare.Read);
        fs.Write(bytes);
        fs.Flush(flushToDisk: true);
    }

    static T Parse<T>(string line, int index, string dir, string file, Func<string, T> parse)
    {
        try { return parse(line); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or NullReferenceException)
        {
            throw new PerkException($"{Path.Combine(dir, file)}:{index + 1}: not a line perk eval wrote; use --force to start the evaluation over");
        }
    }

    static EvalFolder.Failure JsonFailure(string line)
    {
        var o = JsonNode.Parse(line)!.AsObject();
        return new EvalFolder.Failure((string)o["file"]!, (string)o["line"]!, (string)o["guid"]!, (string)o["reason"]!);
    }

    /// <summary>One failures.jsonl line: file, line, guid, reason.</summary>
    public static string FailureJson(EvalFolder.Failure f) =>
        new JsonObject { ["file"] = f.File, ["line"] = f.Line, ["guid"] = f.Guid, ["reason"] = f.Reason }.ToJsonString();

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
