using System.CommandLine;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `--max-memory` of `perk encode` and `perk eval`: the budget the inner loop's parts are sized to
/// (src/PerkSharp/Runtime/EncodeMemory.cs), checked against the model and the document before anything loads.
/// </summary>
internal static class MemoryOption
{
    public static readonly Option<string?> MaxMemory = new("--max-memory")
    {
        Description = "Memory the encoding may use, e.g. 4G or 512M (default: half of the memory available now); " +
                      "a long document is encoded in parts that fit",
    };

    /// <summary>
    /// The budget of this command line, after refusing in one line a model (and document, when given) that cannot fit
    /// even one segment of <paramref name="segmentTokens"/> tokens at a time. Reads only config.json and file sizes.
    /// </summary>
    public static MemoryBudget Check(ParseResult parse, string checkpoint, int? segmentTokens, string? document)
    {
        var budget = MemoryBudget.FromOption(parse.GetValue(MaxMemory));
        TrainedPerk.ReadConfig(checkpoint, null, out string dir);
        string baseDir = PerkCheckpoint.BaseModel(dir);
        var config = ModelConfig.Load(Path.Combine(baseDir, "config.json"));
        long documentBytes = document != null && File.Exists(document) ? new FileInfo(document).Length : 0;
        int tokens = Math.Min(segmentTokens ?? Perk.DefaultSegmentTokens, config.MaxPositionEmbeddings);
        EncodeMemory.CheckFits(budget, config, EncodeMemory.WeightBytes(baseDir), documentBytes, tokens, document ?? checkpoint);
        return budget;
    }
}
