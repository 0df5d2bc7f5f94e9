using System.Text;
using PerkSharp.IO;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.IO;

/// <summary>Round trips and interop of the safetensors reader/writer.</summary>
public class SafetensorsTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-st-" + Guid.NewGuid().ToString("N")[..8]);

    public SafetensorsTests() { TorchRuntime.Initialize(); Directory.CreateDirectory(_dir); }
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Fact]
    public void RoundTripKeepsEveryDTypeShapeAndValueBitwise()
    {
        var g = torch.manual_seed(7);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = torch.randn(3, 5),
            ["f16"] = torch.randn(4, 2).to(ScalarType.Float16),
            ["bf16"] = torch.randn(2, 3, 2).to(ScalarType.BFloat16),
            ["f64"] = torch.randn(7, dtype: ScalarType.Float64),
            ["i64"] = torch.randint(-1000, 1000, new long[] { 6 }, dtype: ScalarType.Int64),
            ["i32"] = torch.randint(-1000, 1000, new long[] { 2, 2 }, dtype: ScalarType.Int32),
            ["bool"] = torch.randn(5).gt(0),
            ["scalar"] = torch.tensor(3.5f),
            ["empty"] = torch.zeros(0, 4),
            ["transposed"] = torch.randn(3, 4).t(),     // non-contiguous input must be written in logical order
        };
        string path = Path.Combine(_dir, "rt.safetensors");
        Safetensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" });

        var loaded = Safetensors.Load(path);
        Assert.Equal(tensors.Keys.OrderBy(k => k), loaded.Keys.OrderBy(k => k));
        foreach (var (k, t) in tensors)
        {
            Assert.Equal(t.dtype, loaded[k].dtype);
            Assert.Equal(t.shape, loaded[k].shape);
            Assert.True(TensorAssert.Bitwise(t, loaded[k]), k);
        }
        var header = Safetensors.ReadHeader(path);
        Assert.Equal("ünïcode", header.Metadata["note"]);
        Assert.Equal(0, header.DataStart % 8);   // the reference writer aligns the data block
        Assert.Equal(new[] { "f32", "f16", "bf16", "f64", "i64", "i32", "bool", "scalar", "empty", "transposed" },
                     header.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void ReadsAFileWrittenByHandFollowingTheSpec()
    {
        // An independent writer: header text and little-endian bytes built by hand, including a non-ASCII name and
        // a header whose data block holds tensors in an order different from the header order.
        string header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}," +
                        "\"h\\u00e9\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[12,16]}," +
                        "\"a\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]},\"__metadata__\":{\"format\":\"pt\"}}";
        var hb = Encoding.UTF8.GetBytes(header);
        var data = new List<byte>();
        data.AddRange(BitConverter.GetBytes(-42));
        data.AddRange(BitConverter.GetBytes(1.5f)); data.AddRange(BitConverter.GetBytes(-2.25f));
        data.AddRange(new byte[] { 0x80, 0x3F, 0x40, 0xC0 });   // bf16 1.0 and -3.0
        string path = Path.Combine(_dir, "hand.safetensors");
        File.WriteAllBytes(path, BitConverter.GetBytes((ulong)hb.Length).Concat(hb).Concat(data).ToArray());

        var t = Safetensors.Load(path);
        Assert.Equal(-42, t["a"].item<int>());
        Assert.Equal(new[] { 1.5f, -2.25f }, t["b"].data<float>().ToArray());
        Assert.Equal(new long[] { 1, 2 }, t["hé"].shape);
        Assert.Equal(new[] { 1.0f, -3.0f }, t["hé"].to(ScalarType.Float32).data<float>().ToArray());
    }

    [Fact]
    public void LargeTensorsAreReadAndWrittenInChunks()
    {
        long saved = Safetensors.ChunkBytes;
        try
        {
            Safetensors.ChunkBytes = 40;   // 10 floats per chunk: exercises the narrow-and-read loop, including a tail
            using var t = torch.randn(17, 13);
            string path = Path.Combine(_dir, "chunks.safetensors");
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = t });
            Assert.True(TensorAssert.Bitwise(t, Safetensors.Load(path)["w"]));
        }
        finally { Safetensors.ChunkBytes = saved; }
    }

    [Fact]
    public void SaveIsAtomicAndLeavesNoTempFiles()
    {
        string path = Path.Combine(_dir, "atomic.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["x"] = torch.ones(3) });
        var bad = new Dictionary<string, Tensor> { ["y"] = torch.ones(2), ["z"] = torch.ones(2, dtype: ScalarType.ComplexFloat32) };
        var e = Assert.Throws<PerkException>(() => Safetensors.Save(path, bad));
        Assert.Contains("\"z\"", e.Message);
        Assert.Equal(new[] { "atomic.safetensors" }, Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.True(TensorAssert.Bitwise(torch.ones(3), Safetensors.Load(path)["x"]));   // the old file is intact
    }

    [Fact]
    public void HeaderOnlyReadDoesNotNeedTheData()
    {
        string path = Path.Combine(_dir, "hdr.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = torch.zeros(4, 8, dtype: ScalarType.Float16) });
        var h = Safetensors.ReadHeader(path);
        var e = Assert.Single(h.Tensors);
        Assert.Equal(("w", "F16", 64L), (e.Name, e.DType, e.ByteLength));
        Assert.Equal(new long[] { 4, 8 }, e.Shape);
        Assert.Equal(h.FileLength, h.DataStart + 64);
    }
}
