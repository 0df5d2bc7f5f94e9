using System.CommandLine;
using PerkSharp.Data;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk encode --checkpoint RUN --document FILE --out MEMORY`: adapt once, save the memory as a PEFT adapter.</summary>
public sealed class EncodeCommand : ICliCommand
{
    /// <summary>Unset: 256, or less when the model's window is smaller; given: refused beyond the model's positions.</summary>
    internal static readonly Option<int?> SegmentTokens = new("--segment-tokens") { Description = "Split the document into segments of at most this many of the model's tokens (sentence boundaries first, then word windows; default 256 or what fits the model)" };

    const int DefaultSegmentTokens = 256;

    public Command Build()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A PERK run or checkpoint folder", Required = true };
        var document = new Option<string>("--document") { Description = "UTF-8 text file to encode", Required = true };
        var outDir = new Option<string>("--out") { Description = "Memory folder to write (adapter_config.json + adapter_model.safetensors): new or empty", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it already holds a memory (any other folder is never replaced)" };
        var cmd = new Command("encode", "Encode a document into a LoRA memory (PEFT format) with the meta-learned inner loop") { checkpoint, document, outDir, SegmentTokens, force };
        cmd.SetHandler(parse =>
        {
            string outPath = parse.GetValue(outDir)!;
            OutputGuard.Folder(outPath, PerkMemory.Kind, parse.GetValue(force));     // before the model loads, not after the work
            CheckSegmentTokens(parse.GetValue(checkpoint)!, parse.GetValue(SegmentTokens));
            using var run = TrainedPerk.Open(parse.GetValue(checkpoint)!);
            if (run.IsFtIcr) throw new PerkException($"{run.CheckpointDir}: an FT-ICR run has no encoder; encode needs a PERK run");
            var segments = ReadDocument(parse.GetValue(document)!, parse.GetValue(SegmentTokens), run);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            TorchSharp.torch.manual_seed(run.Config.Seed);                   // dropout during adaptation is reproducible
            using var memory = run.System.Encode(segments);
            memory.Save(outPath, run.Base.Directory, WeightsFingerprint.Of(run.Base.Directory), parse.GetValue(force));
            Console.WriteLine($"encode: {segments.Count} segments in {sw.ElapsedMilliseconds} ms, inner loss " +
                              string.Join(" -> ", memory.InnerLosses.Select(l => l.ToString("0.000"))) + $"; memory written to {outPath}");
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// Refuses, before any model loads, a segment size the model cannot take (one line): a segment is at most
    /// n_positions tokens together with its "doc_i:" prompt and end-of-text.
    /// </summary>
    public static void CheckSegmentTokens(string checkpoint, int? given)
    {
        if (given is not int segmentTokens) return;
        if (segmentTokens < 16) throw new PerkException($"--segment-tokens {segmentTokens}: expected at least 16");
        TrainedPerk.ReadConfig(checkpoint, null, out string dir);
        int positions = ModelConfig.Load(Path.Combine(PerkCheckpoint.BaseModel(dir), "config.json")).MaxPositionEmbeddings;
        if (segmentTokens > positions)
            throw new PerkException($"--segment-tokens {segmentTokens}: larger than the model's {positions} positions");
    }

    /// <summary>
    /// A document file as context segments that each fit the model's window: at most <paramref name="segmentTokens"/>
    /// of the model's tokens, fewer when the segment prompt and end-of-text would not fit otherwise (one-line errors
    /// for missing, empty or non-UTF-8 files).
    /// </summary>
    public static List<string> ReadDocument(string path, int? segmentTokens, TrainedPerk run)
    {
        var tok = run.Base.Tokenizer;
        int overhead = tok.CountTokens(PerkFormat.SegmentPrompt(999_999)) + 1;          // prompt of a large doc id + eos
        int size = Math.Max(1, Math.Min(segmentTokens ?? DefaultSegmentTokens, run.Base.Model.Config.MaxPositionEmbeddings - overhead));
        return ReadDocument(path, size, tok.CountTokens);
    }

    static List<string> ReadDocument(string path, int segmentTokens, Func<string, int> count)
    {
        if (!File.Exists(path)) throw new PerkException($"{path}: document not found");
        string text;
        try { text = File.ReadAllText(path, new System.Text.UTF8Encoding(false, true)); }
        catch (System.Text.DecoderFallbackException) { throw new PerkException($"{path}: not valid UTF-8 text"); }
        if (string.IsNullOrWhiteSpace(text)) throw new PerkException($"{path}: the document is empty");
        return GenericReader.Segment(text, segmentTokens, count);
    }
}
