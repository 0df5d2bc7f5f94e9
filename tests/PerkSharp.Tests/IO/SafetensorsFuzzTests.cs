using System.Text;
using System.Text.RegularExpressions;
using PerkSharp.IO;
using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.IO;

/// <summary>
/// Mutation fuzzing of the safetensors reader: every mutated file either loads or fails with a
/// PerkException; no other exception, no native abort, no hang. 2,000 files here; set PERK_FUZZ_N for more.
/// </summary>
public class SafetensorsFuzzTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-fuzz-" + Guid.NewGuid().ToString("N")[..8]);

    public SafetensorsFuzzTests() { TorchRuntime.Initialize(); Directory.CreateDirectory(_dir); }
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Fact]
    public void MutatedFilesLoadOrFailWithPerkException()
    {
        int n = int.TryParse(Environment.GetEnvironmentVariable("PERK_FUZZ_N"), out var v) && v > 0 ? v : 2000;
        string seedPath = Path.Combine(_dir, "seed.safetensors");
        Safetensors.Save(seedPath, new Dictionary<string, Tensor>
        {
            ["model.embed_tokens.weight"] = torch.randn(5, 4).to(ScalarType.BFloat16),
            ["model.norm.weight"] = torch.ones(4),
            ["lm_head.bias"] = torch.zeros(3, dtype: ScalarType.Float16),
            ["ids"] = torch.arange(3, dtype: ScalarType.Int64),
            ["mask"] = torch.tensor(new[] { true, false, true, true }),
        }, new Dictionary<string, string> { ["format"] = "pt" });
        byte[] seed = File.ReadAllBytes(seedPath);

        var rng = new Random(20260417);
        int loaded = 0, rejected = 0;
        string path = Path.Combine(_dir, "m.safetensors");
        // Hang guard (not a timing assertion): a pathological input must not make the reader loop forever.
        var run = Task.Run(() =>
        {
            for (int i = 0; i < n; i++)
            {
                byte[] bytes = Mutate(seed, rng);
                File.WriteAllBytes(path, bytes);
                try
                {
                    var r = Safetensors.Load(path);
                    foreach (var t in r.Values) t.Dispose();
                    loaded++;
                }
                catch (PerkException e)
                {
                    Assert.DoesNotContain('\n', e.Message);
                    rejected++;
                }
                catch (Exception e)
                {
                    File.WriteAllBytes(Path.Combine(Path.GetTempPath(), "perk-fuzz-failure.safetensors"), bytes);
                    Assert.Fail($"mutation {i}: {e.GetType().Name}: {e.Message} (file kept as perk-fuzz-failure.safetensors)");
                }
            }
        });
        Assert.True(run.Wait(TimeSpan.FromMinutes(10)), "fuzzing did not finish: the reader hangs on some input");
        run.GetAwaiter().GetResult();
        Assert.Equal(n, loaded + rejected);
        Assert.True(rejected > n / 4, $"mutations should mostly break the file (rejected {rejected} of {n})");
        Assert.True(loaded > 0, "some mutations (e.g. in tensor data) must still load");
    }

    static readonly Regex Number = new(@"-?\d+", RegexOptions.Compiled);

    /// <summary>One to three mutations: byte flips, truncation, insertion, header-length edits and JSON-aware edits.</summary>
    static byte[] Mutate(byte[] seed, Random rng)
    {
        var b = seed.ToList();
        int headerLen = (int)BitConverter.ToUInt64(seed, 0);
        int count = rng.Next(1, 4);
        for (int k = 0; k < count; k++)
        {
            switch (rng.Next(9))
            {
                case 0: if (b.Count > 0) b[rng.Next(b.Count)] ^= (byte)(1 << rng.Next(8)); break;             // bit flip anywhere
                case 1: if (b.Count > 8) b[rng.Next(8, Math.Min(b.Count, 8 + headerLen))] = (byte)rng.Next(256); break; // header byte
                case 2: { int cut = rng.Next(b.Count + 1); b.RemoveRange(cut, b.Count - cut); break; }        // truncation
                case 3: b.InsertRange(rng.Next(b.Count + 1), Enumerable.Range(0, rng.Next(1, 9)).Select(_ => (byte)rng.Next(256))); break;
                case 4: b.RemoveRange(0, Math.Min(8, b.Count)); b.InsertRange(0, BitConverter.GetBytes(LengthValue(rng, headerLen))); break;
                case 5: { int at = rng.Next(b.Count + 1); b.RemoveRange(at, Math.Min(rng.Next(1, 40), b.Count - at)); break; } // cut a range
                default: b = MutateHeaderJson(b.ToArray(), rng).ToList(); break;                                 // JSON-aware
            }
        }
        return b.ToArray();
    }

    static ulong LengthValue(Random rng, int headerLen) => rng.Next(6) switch
    {
        0 => 0, 1 => ulong.MaxValue, 2 => (ulong)(headerLen + rng.Next(-16, 17)), 3 => (ulong)long.MaxValue,
        4 => (ulong)rng.NextInt64(), _ => (ulong)headerLen - 1,
    };

    /// <summary>Replaces a number, a dtype or a bracket in the JSON header and rewrites the length prefix to match.</summary>
    static byte[] MutateHeaderJson(byte[] file, Random rng)
    {
        if (file.Length < 8) return file;
        ulong len = BitConverter.ToUInt64(file, 0);
        if (len > (ulong)(file.Length - 8)) return file;
        string json = Encoding.UTF8.GetString(file, 8, (int)len);
        if (json.Length == 0) return file;
        string mutated;
        var numbers = Number.Matches(json);
        int pick = rng.Next(5);
        if (pick <= 1 && numbers.Count > 0)
        {
            var m = numbers[rng.Next(numbers.Count)];
            string[] values = { "-1", "0", "1", "3", "7", "9999999", "-9223372036854775808", "18446744073709551616", "1e9", "2.5", "\"x\"", "null", "[]", "1099511627776" };
            mutated = json[..m.Index] + values[rng.Next(values.Length)] + json[(m.Index + m.Length)..];
        }
        else if (pick == 2)
        {
            string[] dtypes = { "\"F32\"", "\"F16\"", "\"BF16\"", "\"I64\"", "\"U8\"", "\"BOOL\"", "\"F8_E5M2\"", "\"\"", "7" };
            mutated = Regex.Replace(json, "\"(F32|BF16|F16|I64)\"", _ => dtypes[rng.Next(dtypes.Length)]);
        }
        else if (pick == 3)
        {
            int at = rng.Next(json.Length);
            char[] junk = { '{', '}', '[', ']', ',', ':', '"', '\\', ' ' };
            mutated = json.Remove(at, 1).Insert(at, junk[rng.Next(junk.Length)].ToString());
        }
        else
        {
            // Swap two tensors' offsets or duplicate a data_offsets array: produces overlaps and span mismatches.
            var offs = Regex.Matches(json, @"\[\d+,\d+\]");
            if (offs.Count < 2) return file;
            var a = offs[rng.Next(offs.Count)]; var c = offs[rng.Next(offs.Count)];
            mutated = json[..a.Index] + c.Value + json[(a.Index + a.Length)..];
        }
        var hb = Encoding.UTF8.GetBytes(mutated);
        return BitConverter.GetBytes((ulong)hb.Length).Concat(hb).Concat(file.Skip(8 + (int)len)).ToArray();
    }
}
