using System.Text.Json;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.IO;

/// <summary>One tensor record of a safetensors header: name, dtype, shape and its byte span inside the data block.</summary>
/// <param name="Begin">Start of the tensor's bytes, relative to the start of the data block.</param>
/// <param name="End">End (exclusive) of the tensor's bytes, relative to the start of the data block.</param>
public sealed record SafetensorsEntry(string Name, string DType, ScalarType ScalarType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public long NumElements => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// A parsed and fully validated safetensors header. Everything a reader later touches (offsets, lengths, dtypes) has
/// been checked against the file size here, so loading can read without further checks.
/// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON, then the data block.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>Largest header accepted (the limit of the reference implementation).</summary>
    public const long MaxHeaderBytes = 100_000_000;
    /// <summary>Largest rank accepted; real checkpoints use 1-4.</summary>
    public const int MaxRank = 16;
    /// <summary>Largest single dimension accepted (keeps shape arithmetic far from overflow).</summary>
    public const long MaxDim = 1L << 40;

    public required string Path { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    /// <summary>Tensors in header order.</summary>
    public required IReadOnlyList<SafetensorsEntry> Tensors { get; init; }
    /// <summary>Absolute file offset of the data block (8 + header length).</summary>
    public required long DataStart { get; init; }
    public required long FileLength { get; init; }

    internal static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new()
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Reads and validates the header of <paramref name="path"/> (reads no tensor data).</summary>
    public static SafetensorsHeader Read(string path)
    {
        if (!File.Exists(path)) throw new PerkException($"{path}: safetensors file not found");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        long fileLen = fs.Length;
        if (fileLen < 8) throw new PerkException($"{path}: file is {fileLen} bytes, too short for the 8-byte safetensors header length");
        Span<byte> lenBytes = stackalloc byte[8];
        fs.ReadExactly(lenBytes);
        ulong n = BitConverter.ToUInt64(lenBytes);     // little-endian on every supported platform
        if (n < 2) throw new PerkException($"{path}: safetensors header length {n} is too small for a JSON object");
        if (n > (ulong)(fileLen - 8))
            throw new PerkException($"{path}: safetensors header length {n} exceeds the file size ({fileLen} bytes)");
        if (n > MaxHeaderBytes) throw new PerkException($"{path}: safetensors header length {n} exceeds the {MaxHeaderBytes}-byte limit");
        var json = new byte[(int)n];
        fs.ReadExactly(json);
        return Parse(path, json, 8 + (long)n, fileLen);
    }

    static SafetensorsHeader Parse(string path, byte[] json, long dataStart, long fileLen)
    {
        long dataLen = fileLen - dataStart;
        // JsonDocument checks UTF-8 only lazily (a bad byte inside a string throws later, on GetString).
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw new PerkException($"{path}: safetensors header is not valid UTF-8");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new PerkException($"{path}: safetensors header is not valid JSON ({FirstLine(e.Message)})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new PerkException($"{path}: safetensors header must be a JSON object (got {doc.RootElement.ValueKind})");
            var metadata = new Dictionary<string, string>();
            var tensors = new List<SafetensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name)) throw new PerkException($"{path}: tensor \"{prop.Name}\" appears twice in the header");
                if (prop.Name == "__metadata__") { ReadMetadata(path, prop.Value, metadata); continue; }
                tensors.Add(ReadEntry(path, prop.Name, prop.Value, dataLen));
            }
            CheckOverlaps(path, tensors);
            return new SafetensorsHeader { Path = path, Metadata = metadata, Tensors = tensors, DataStart = dataStart, FileLength = fileLen };
        }
    }

    static void ReadMetadata(string path, JsonElement e, Dictionary<string, string> into)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new PerkException($"{path}: \"__metadata__\" must be an object of strings (got {e.ValueKind})");
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new PerkException($"{path}: \"__metadata__\" value of \"{p.Name}\" must be a string (got {p.Value.ValueKind})");
            into[p.Name] = p.Value.GetString()!;
        }
    }

    static SafetensorsEntry ReadEntry(string path, string name, JsonElement e, long dataLen)
    {
        string where = $"{path}: tensor \"{name}\"";
        if (name.Length == 0) throw new PerkException($"{path}: a tensor has an empty name");
        if (e.ValueKind != JsonValueKind.Object) throw new PerkException($"{where}: entry must be an object with dtype, shape and data_offsets");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new PerkException($"{where}: missing string \"dtype\"");
        string dtype = dt.GetString()!;
        if (!DTypes.TryGetValue(dtype, out var info))
            throw new PerkException($"{where}: unknown or unsupported dtype \"{dtype}\" (supported: {string.Join(", ", DTypes.Keys)})");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new PerkException($"{where}: missing array \"shape\"");
        int rank = sh.GetArrayLength();
        if (rank > MaxRank) throw new PerkException($"{where}: shape has {rank} dimensions (at most {MaxRank} supported)");
        var shape = new long[rank];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v))
                throw new PerkException($"{where}: shape entry {i} must be an integer (got {d.GetRawText()})");
            if (v < 0) throw new PerkException($"{where}: shape has a negative dimension {v}");
            if (v > MaxDim) throw new PerkException($"{where}: shape dimension {v} is implausibly large");
            shape[i++] = v;
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new PerkException($"{where}: \"data_offsets\" must be an array [begin, end]");
        long begin = Offset(where, off[0]), end = Offset(where, off[1]);
        if (end < begin) throw new PerkException($"{where}: data_offsets end {end} is before begin {begin}");
        if (end > dataLen) throw new PerkException($"{where}: data_offsets [{begin}, {end}] lie outside the data block ({dataLen} bytes)");
        long expected = ExpectedBytes(where, shape, info.Size);
        if (expected != end - begin)
            throw new PerkException($"{where}: shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes but data_offsets span {end - begin}");
        return new SafetensorsEntry(name, dtype, info.Type, shape, begin, end);
    }

    static long Offset(string where, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long v))
            throw new PerkException($"{where}: data_offsets entries must be integers (got {e.GetRawText()})");
        if (v < 0) throw new PerkException($"{where}: data_offsets entry {v} is negative");
        return v;
    }

    static long ExpectedBytes(string where, long[] shape, int elemSize)
    {
        if (shape.Contains(0)) return 0;
        try
        {
            long n = elemSize;
            foreach (var d in shape) n = checked(n * d);
            return n;
        }
        catch (OverflowException) { throw new PerkException($"{where}: shape [{string.Join(", ", shape)}] overflows the byte count"); }
    }

    static void CheckOverlaps(string path, List<SafetensorsEntry> tensors)
    {
        SafetensorsEntry? prev = null;
        foreach (var t in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (prev != null && t.Begin < prev.End)
                throw new PerkException($"{path}: tensor \"{t.Name}\" bytes [{t.Begin}, {t.End}) overlap tensor \"{prev.Name}\" [{prev.Begin}, {prev.End})");
            prev = t;
        }
    }

    static string FirstLine(string s) { var l = s.Split('\n')[0].Trim(); return l.Length > 160 ? l[..160] + "..." : l; }
}
