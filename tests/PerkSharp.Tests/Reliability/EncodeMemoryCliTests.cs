using PerkSharp.IO;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tests.Cli;
using PerkSharp.Training;

namespace PerkSharp.Tests.Reliability;

/// <summary>
/// `perk encode --max-memory` through the real CLI: a document that cannot fit even one segment at a time is one line
/// before any work, and a budget smaller than the document runs in parts (with progress) and gives the unsplit result
/// up to rounding.
/// </summary>
public class EncodeMemoryCliTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), "perk-encmem-" + Guid.NewGuid().ToString("N")[..8]);

    public EncodeMemoryCliTests() => TrainedRunFixture.CopyTo(_root);
    public void Dispose() { try { Directory.Delete(_root, true); } catch { } }

    string Run => Path.Combine(_root, "run");

    CliRunner.Result Encode(string document, string outDir, string budget) =>
        CliRunner.RunIn(_root, TimeSpan.FromMinutes(5), "encode", "--checkpoint", Run, "--document", document,
            "--out", Path.Combine(_root, outDir), "--max-memory", budget, "--threads", "1");

    /// <summary>Prose of about <paramref name="bytes"/> bytes: short varied sentences.</summary>
    string Document(string name, int bytes)
    {
        var sb = new System.Text.StringBuilder();
        string[] who = { "Mary", "John", "Sandra", "Daniel" }, where = { "kitchen", "garden", "office", "hallway", "bedroom" };
        for (int i = 0; sb.Length < bytes; i++) sb.Append($"{who[i % 4]} went to the {where[i % 5]} on day {i}. ");
        string path = Path.Combine(_root, name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>The budget that leaves room for <paramref name="rows"/> segments of the fixture model at once, as EncodeMemory counts.</summary>
    long Budget(string document, int rows)
    {
        TrainedPerk.ReadConfig(Run, null, out string dir);
        string baseDir = PerkCheckpoint.BaseModel(dir);
        var config = ModelConfig.Load(Path.Combine(baseDir, "config.json"));
        return EncodeMemory.Fixed(EncodeMemory.WeightBytes(baseDir), new FileInfo(document).Length)
               + EncodeMemory.Part(config, rows, config.MaxPositionEmbeddings);
    }

    [Fact]
    public void ADocumentThatCannotFitOneSegmentAtATimeIsOneLineBeforeAnyWork()
    {
        string doc = Document("big.txt", 2_000_000);
        long fits = Budget(doc, 1);
        var r = Encode(doc, "mem-big", (fits - (1 << 20)).ToString());
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {doc}: needs about", line);
        Assert.Contains("even one segment at a time", line);
        Assert.Contains("--max-memory", line);
        Assert.Equal("", r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(_root, "mem-big")));
        // The same budget takes a short document, and a budget below the runtime alone refuses any.
        Assert.Equal(0, Encode(Path.Combine(_root, "doc.txt"), "mem-short", (fits - (1 << 20)).ToString()).ExitCode);
        var tiny = Encode(Path.Combine(_root, "doc.txt"), "mem-none", "64M");
        Assert.Equal(2, tiny.ExitCode);
        Assert.Contains("the memory budget is 64 MB (--max-memory 64M)", tiny.Stderr);
        var bad = Encode(Path.Combine(_root, "doc.txt"), "mem-bad", "4X");
        Assert.Equal("error: --max-memory 4X: expected a size such as 4G, 512M or 1073741824 (bytes)", bad.Stderr.Trim());
    }

    [Fact]
    public void ABudgetSmallerThanTheDocumentRunsInPartsAndMatchesTheWholeEncode()
    {
        string doc = Document("doc10.txt", 10_000);            // about 40 segments of 256 bytes
        // Without LoRA dropout: parts draw other dropout masks than one batch, so only dropout-free runs compare.
        string cfg = Path.Combine(Run, "checkpoints", "last", "config.yaml");
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("lora_dropout: 0.1", "lora_dropout: 0"));
        var whole = Encode(doc, "whole", "64G");
        Assert.True(whole.ExitCode == 0, whole.Stderr);
        var parts = Encode(doc, "parts", Budget(doc, 4).ToString());
        Assert.True(parts.ExitCode == 0, parts.Stderr);
        Assert.Matches(@"encode \[#+\] \d+/\d+ .*ETA", parts.Stderr);
        Assert.Contains("peak memory", parts.Stdout);
        var a = Safetensors.Load(Path.Combine(_root, "whole", "adapter_model.safetensors"));
        var b = Safetensors.Load(Path.Combine(_root, "parts", "adapter_model.safetensors"));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a)
        {
            // Relative norm: Adam's update is about lr·sign(g), so a gradient near 0 may round to the other sign.
            double norm = Math.Max(1e-6, t.norm().item<float>()), diff = (t - b[name]).norm().item<float>();
            Assert.True(diff <= 1e-3 * norm, $"{name}: parts differ from the whole encode by {diff} (norm {norm})");
        }
    }
}
