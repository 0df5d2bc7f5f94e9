using System.Text;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Tests.IO;

/// <summary>Malformed safetensors files, each with the one-line error it must produce.</summary>
public class SafetensorsValidationTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-stv-" + Guid.NewGuid().ToString("N")[..8]);

    public SafetensorsValidationTests() { TorchRuntime.Initialize(); Directory.CreateDirectory(_dir); }
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    const string W = "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";

    /// <summary>(case name, header text or null for raw bytes, data length, tensor the message must name, message fragment).</summary>
    public static IEnumerable<object?[]> Cases() => new[]
    {
        new object?[] { "header length larger than file", null, 0, null, "exceeds the file size" },
        new object?[] { "file shorter than 8 bytes", null, -1, null, "too short" },
        new object?[] { "header length zero", null, -2, null, "too small" },
        new object?[] { "truncated JSON", "{" + W, 16, null, "not valid JSON" },
        new object?[] { "trailing comma", "{" + W + ",}", 16, null, "not valid JSON" },
        new object?[] { "invalid UTF-8", null, -3, null, "not valid UTF-8" },
        new object?[] { "root is an array", "[1,2]", 0, null, "must be a JSON object" },
        new object?[] { "unknown dtype", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "w", "unsupported dtype \"F8_E4M3\"" },
        new object?[] { "lower-case dtype", "{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w", "unsupported dtype" },
        new object?[] { "dtype not a string", "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w", "\"dtype\"" },
        new object?[] { "missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "w", "\"shape\"" },
        new object?[] { "shape/byte mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16, "w", "needs 16 bytes but data_offsets span 12" },
        new object?[] { "dtype size mismatch", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16, "w", "needs 8 bytes" },
        new object?[] { "negative dimension", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,2],\"data_offsets\":[0,16]}}", 16, "w", "negative dimension" },
        new object?[] { "fractional dimension", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "w", "must be an integer" },
        new object?[] { "huge dimension", "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999],\"data_offsets\":[0,4]}}", 4, "w", "implausibly large" },
        new object?[] { "shape product overflows", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}", 4, "w", "overflows" },
        new object?[] { "too many dimensions", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, "w", "dimensions" },
        new object?[] { "offsets outside data", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16, "w", "outside the data block" },
        new object?[] { "end before begin", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 16, "w", "before begin" },
        new object?[] { "negative offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 16, "w", "negative" },
        new object?[] { "three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 16, "w", "[begin, end]" },
        new object?[] { "missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "w", "data_offsets" },
        new object?[] { "string offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4, "w", "must be integers" },
        new object?[] { "overlapping tensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "b", "overlap tensor \"a\"" },
        new object?[] { "same span twice", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "a", "overlap" },
        new object?[] { "duplicate tensor name", "{" + W + "," + W + "}", 16, "w", "appears twice" },
        new object?[] { "entry not an object", "{\"w\":[1,2]}", 0, "w", "must be an object" },
        new object?[] { "metadata not strings", "{\"__metadata__\":{\"format\":1}," + W + "}", 16, "format", "must be a string" },
        new object?[] { "metadata not an object", "{\"__metadata__\":\"pt\"," + W + "}", 16, "__metadata__", "object of strings" },
        new object?[] { "bool value 2", "{\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", -4, "m", "must be 0 or 1" },
        new object?[] { "empty tensor name", "{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, null, "empty name" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedFileGivesOneLineErrorNamingFileAndTensor(string name, string? header, int dataLen, string? tensor, string fragment)
    {
        string path = Path.Combine(_dir, name.Replace(' ', '_').Replace('/', '_') + ".safetensors");
        File.WriteAllBytes(path, Build(header, dataLen));
        var e = Assert.Throws<PerkException>(() => Safetensors.Load(path));
        Assert.Contains(fragment, e.Message);
        Assert.Contains(path, e.Message);
        if (tensor != null) Assert.Contains($"\"{tensor}\"", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // The header-only read applies the same checks (the bool case is in the data, which it does not read).
        if (dataLen == -4) Safetensors.ReadHeader(path);
        else Assert.Equal(e.Message, Assert.Throws<PerkException>(() => Safetensors.ReadHeader(path)).Message);
    }

    [Fact]
    public void MissingFileIsAUserError()
    {
        string path = Path.Combine(_dir, "nope.safetensors");
        Assert.Contains("not found", Assert.Throws<PerkException>(() => Safetensors.Load(path)).Message);
    }

    static byte[] Build(string? header, int dataLen)
    {
        if (header == null)
            return dataLen switch
            {
                0 => BitConverter.GetBytes(1000UL).Concat(Encoding.UTF8.GetBytes("{}")).ToArray(),  // claims 1000 bytes
                -1 => new byte[] { 1, 2, 3 },
                -2 => BitConverter.GetBytes(0UL),
                -3 => BitConverter.GetBytes(4UL).Concat(new byte[] { (byte)'{', 0xC3, 0x28, (byte)'}' }).ToArray(),
                _ => throw new ArgumentException(),
            };
        var hb = Encoding.UTF8.GetBytes(header);
        var data = dataLen == -4 ? new byte[] { 1, 2, 0 } : new byte[dataLen];   // -4: a bool tensor holding the byte 2
        return BitConverter.GetBytes((ulong)hb.Length).Concat(hb).Concat(data).ToArray();
    }
}
