using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.IO;

/// <summary>
/// Reads and writes the safetensors format (u64 header length, JSON header, raw little-endian tensor bytes).
/// Own reader rather than TorchSharp.PyBridge 1.4.4: PyBridge's reader checks neither the header length against the
/// file size nor offsets, overlaps or shape-vs-span, throws non-user exceptions on bad input, copies every tensor
/// through a managed byte[] (2 GB limit), and its writer stores the header's char count instead of its UTF-8 byte count.
/// Every bound is checked in <see cref="SafetensorsHeader.Read"/> before any byte of tensor data is read; data is
/// then read straight into each tensor's native storage in chunks (no per-element loops, no managed copy).
/// </summary>
public static class Safetensors
{
    /// <summary>Bytes per read/write call (64 MB); tests lower it to exercise the chunk loop.</summary>
    internal static long ChunkBytes = 1L << 26;

    /// <summary>Header only: metadata, names, dtypes, shapes and offsets, fully validated.</summary>
    public static SafetensorsHeader ReadHeader(string path) => SafetensorsHeader.Read(path);

    /// <summary>Loads every tensor of <paramref name="path"/> on the CPU in its stored dtype.</summary>
    public static Dictionary<string, Tensor> Load(string path) => Load(path, null);

    /// <summary>Loads the tensors whose names pass <paramref name="keep"/> (all when null).</summary>
    public static Dictionary<string, Tensor> Load(string path, Func<string, bool>? keep)
    {
        var header = SafetensorsHeader.Read(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
            if (RandomAccess.GetLength(handle) != header.FileLength)
                throw new PerkException($"{path}: file changed while it was being read");
            foreach (var e in header.Tensors)
            {
                if (keep != null && !keep(e.Name)) continue;
                result[e.Name] = ReadTensor(handle, header, e);
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    static Tensor ReadTensor(SafeFileHandle handle, SafetensorsHeader h, SafetensorsEntry e)
    {
        var t = torch.empty(e.Shape, dtype: e.ScalarType);
        try
        {
            if (e.ByteLength == 0) return t;
            int elemSize = (int)(e.ByteLength / e.NumElements);
            long perChunk = Math.Max(1, ChunkBytes / elemSize), numel = e.NumElements;
            using var flat = t.view(-1);
            for (long start = 0; start < numel; start += perChunk)
            {
                long count = Math.Min(perChunk, numel - start);
                using var part = flat.narrow(0, start, count);
                var span = part.bytes;
                ReadExactly(handle, span, h.DataStart + e.Begin + start * elemSize, h.Path, e.Name);
                // A bool byte other than 0/1 is undefined behaviour in libtorch: reject it here.
                if (e.ScalarType == ScalarType.Bool && span.IndexOfAnyExcept((byte)0, (byte)1) >= 0)
                    throw new PerkException($"{h.Path}: tensor \"{e.Name}\": BOOL values must be 0 or 1");
            }
            return t;
        }
        catch { t.Dispose(); throw; }
    }

    static void ReadExactly(SafeFileHandle handle, Span<byte> into, long offset, string path, string name)
    {
        while (into.Length > 0)
        {
            int n = RandomAccess.Read(handle, into, offset);
            if (n <= 0) throw new PerkException($"{path}: tensor \"{name}\": file ended early at byte {offset}");
            into = into[n..];
            offset += n;
        }
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> (in the given order) atomically: a temporary file is flushed and renamed
    /// over <paramref name="path"/>. Tensors may live anywhere and need not be contiguous; they are copied to CPU.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = new List<(string Name, string DType, long[] Shape, long Begin, long End, Tensor T)>();
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            if (string.IsNullOrEmpty(name)) throw new PerkException($"{path}: cannot save a tensor with an empty name");
            if (name == "__metadata__") throw new PerkException($"{path}: \"__metadata__\" is reserved and cannot name a tensor");
            string dtype = DTypeName(t.dtype) ?? throw new PerkException($"{path}: tensor \"{name}\" has dtype {t.dtype}, which safetensors cannot store here");
            long bytes = t.NumberOfElements * t.ElementSize;
            entries.Add((name, dtype, t.shape, offset, offset + bytes, t));
            offset += bytes;
        }
        byte[] header = BuildHeader(entries.Select(e => (e.Name, e.DType, e.Shape, e.Begin, e.End)), metadata);
        AtomicFile.Write(path, s =>
        {
            s.Write(BitConverter.GetBytes((ulong)header.Length));
            s.Write(header);
            foreach (var e in entries) WriteTensor(s, e.T);
        });
    }

    static void WriteTensor(Stream s, Tensor t)
    {
        if (t.NumberOfElements == 0) return;
        using var scope = torch.NewDisposeScope();
        var c = t.detach().cpu().contiguous().view(-1);
        long perChunk = Math.Max(1, ChunkBytes / c.ElementSize), numel = c.NumberOfElements;
        for (long start = 0; start < numel; start += perChunk)
            s.Write(c.narrow(0, start, Math.Min(perChunk, numel - start)).bytes);
    }

    /// <summary>The JSON header, padded with spaces so that the data block starts 8-byte aligned (as the reference writer does).</summary>
    static byte[] BuildHeader(IEnumerable<(string Name, string DType, long[] Shape, long Begin, long End)> entries,
                              IReadOnlyDictionary<string, string>? metadata)
    {
        var root = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var m = new JsonObject();
            foreach (var (k, v) in metadata) m[k] = v;
            root["__metadata__"] = m;
        }
        foreach (var e in entries)
            root[e.Name] = new JsonObject
            {
                ["dtype"] = e.DType,
                ["shape"] = new JsonArray(e.Shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(e.Begin, e.End),
            };
        var bytes = Encoding.UTF8.GetBytes(root.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        int padded = (bytes.Length + 8 + 7) / 8 * 8 - 8;
        var result = new byte[padded];
        bytes.CopyTo(result, 0);
        Array.Fill(result, (byte)' ', bytes.Length, padded - bytes.Length);
        return result;
    }

    /// <summary>The safetensors dtype name of a TorchSharp scalar type, or null when it has none.</summary>
    public static string? DTypeName(ScalarType t) =>
        SafetensorsHeader.DTypes.FirstOrDefault(kv => kv.Value.Type == t).Key;
}
