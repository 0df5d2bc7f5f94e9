using System.Security.Cryptography;
using PerkSharp.Runtime;

namespace PerkSharp.IO;

/// <summary>
/// A cheap identity of a model folder's weights: SHA-256 over each *.safetensors file's name and length plus its first
/// and last MiB (header and a sample of the tensor bytes). Why not the whole files: a memory check must not read a
/// 1 GB checkpoint; two models of the same shapes (e.g. the tiny base pretrained twice) still differ in those bytes.
/// </summary>
public static class WeightsFingerprint
{
    const int Sample = 1 << 20;

    public static string Of(string modelDir)
    {
        var files = Directory.Exists(modelDir)
            ? Directory.GetFiles(modelDir, "*.safetensors").Order(StringComparer.Ordinal).ToArray()
            : Array.Empty<string>();
        if (files.Length == 0) throw new PerkException($"{modelDir}: no .safetensors files to fingerprint");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[Sample];
        foreach (var f in files)
        {
            using var s = File.OpenRead(f);
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{Path.GetFileName(f)}:{s.Length};"));
            sha.AppendData(buffer, 0, s.ReadAtLeast(buffer, (int)Math.Min(Sample, s.Length), throwOnEndOfStream: false));
            if (s.Length > Sample)
            {
                s.Seek(Math.Max(Sample, s.Length - Sample), SeekOrigin.Begin);
                sha.AppendData(buffer, 0, s.ReadAtLeast(buffer, (int)(s.Length - s.Position), throwOnEndOfStream: false));
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
