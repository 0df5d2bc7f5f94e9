using System.CommandLine;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk encode --checkpoint RUN --document FILE --out MEMORY`: adapt once, save the memory as a PEFT adapter.
/// A thin wrapper over the facade (src/PerkSharp/Perk.cs), which holds every input check.
/// </summary>
public sealed class EncodeCommand : ICliCommand
{
    /// <summary>Unset: 256, or less when the model's window is smaller; given: refused beyond the model's positions.</summary>
    internal static readonly Option<int?> SegmentTokens = new("--segment-tokens") { Description = "Split the document into segments of at most this many of the model's tokens (sentence boundaries first, then word windows; default 256 or what fits the model)" };

    public Command Build()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A PERK run or checkpoint folder", Required = true };
        var document = new Option<string>("--document") { Description = "UTF-8 text file to encode", Required = true };
        var outDir = new Option<string>("--out") { Description = "Memory folder to write (adapter_config.json + adapter_model.safetensors): new or empty", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it already holds a memory (any other folder is never replaced)" };
        var cmd = new Command("encode", "Encode a document into a LoRA memory (PEFT format) with the meta-learned inner loop") { checkpoint, document, outDir, SegmentTokens, force, MemoryOption.MaxMemory };
        cmd.SetHandler(parse =>
        {
            string outPath = parse.GetValue(outDir)!;
            int? segmentTokens = parse.GetValue(SegmentTokens);
            OutputGuard.Folder(outPath, PerkMemory.Kind, parse.GetValue(force));     // before the model loads, not after the work
            CheckSegmentTokens(parse.GetValue(checkpoint)!, segmentTokens);
            var budget = MemoryOption.Check(parse, parse.GetValue(checkpoint)!, segmentTokens, parse.GetValue(document));
            using var perk = Perk.Open(parse.GetValue(checkpoint)!);
            perk.Budget = budget;
            perk.EncodeProgress = Console.Error;
            var segments = perk.SegmentFile(parse.GetValue(document)!, segmentTokens);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var memory = perk.Encode(segments);
            memory.Save(outPath, force: parse.GetValue(force));
            Console.WriteLine($"encode: {segments.Count} segments in {sw.ElapsedMilliseconds} ms, inner loss " +
                              string.Join(" -> ", memory.InnerLosses.Select(l => l.ToString("0.000"))) + $"; memory written to {outPath}; " +
                              $"peak memory {Runtime.MemoryBudget.Format(Benchmarks.PeakMemory.Hwm)} (budget {budget})");
            return 0;
        });
        return cmd;
    }

    /// <summary>Refuses, before any model loads, a --segment-tokens the model cannot take (one line).</summary>
    public static void CheckSegmentTokens(string checkpoint, int? given) => Perk.CheckSegmentTokens(checkpoint, given, "--segment-tokens");
}
