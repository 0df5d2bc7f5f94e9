using System.Text.Json;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// Reads the official PERK layout <c>{data_dir}/{dataset}/{subset}/{split}.jsonl</c> (babilong, longgorilla;
/// docs/DATA.md) and the single-object sample files of the PERK release. Ids follow the official reader:
/// "{subset}_{line_index}". Unknown keys (e.g. "meta") are ignored.
/// </summary>
public static class OfficialReader
{
    /// <summary>The file of one subset and split.</summary>
    public static string PathOf(string dataDir, string dataset, string subset, string split) =>
        Path.Combine(dataDir, dataset, subset, split + ".jsonl");

    /// <summary>All examples of <c>{dataDir}/{dataset}/{subset}/{split}.jsonl</c>.</summary>
    public static List<PerkExample> Read(string dataDir, string dataset, string subset, string split)
    {
        DatasetRegistry.CheckSplit(split);
        return ReadFile(PathOf(dataDir, dataset, subset, split), dataset, subset);
    }

    /// <summary>Reads one JSONL file of official records; the task name comes from the dataset's family.</summary>
    public static List<PerkExample> ReadFile(string path, string dataset, string subset)
    {
        var (task, length) = DatasetRegistry.TaskOf(dataset, subset);
        return ReadFile(path, subset, task, length);
    }

    /// <summary>Reads one JSONL file of official records as examples of <paramref name="task"/>.</summary>
    public static List<PerkExample> ReadFile(string path, string subset, string task, int length)
    {
        var list = new List<PerkExample>();
        int index = 0;
        foreach (var (line, root) in JsonlFile.Read(path))
            list.Add(FromJson(root, $"{path}:{line}", subset, task, length, index++));
        if (list.Count == 0) throw new PerkException($"{path}: no examples (empty file)");
        return list;
    }

    /// <summary>
    /// Reads an official sample file (one pretty-printed JSON object, as in the release's data_samples/ folder,
    /// e.g. babilong/qa1.json or longgorilla/huggingface_api.json).
    /// </summary>
    public static PerkExample ReadSampleFile(string path, string dataset, string subset)
    {
        var root = JsonlFile.ReadDocument(path);
        if (root.ValueKind != JsonValueKind.Object) throw new PerkException($"{path}: expected one JSON object, found {root.ValueKind}");
        var (task, length) = DatasetRegistry.TaskOf(dataset, subset);
        return FromJson(root, path, subset, task, length, 0);
    }

    /// <summary>
    /// One record: context (array of strings), question (or prompt), answer (or api_call), optional support (array,
    /// or one string joined with '\n') and location.
    /// </summary>
    public static PerkExample FromJson(JsonElement o, string where, string subset, string task, int length, int index)
    {
        if (!o.TryGetProperty("context", out var ctx)) throw new PerkException($"{where}: missing field \"context\"");
        var context = JsonlFile.StringList(ctx, "context", where);
        if (context.Count == 0) throw new PerkException($"{where}: empty context (expected at least one segment)");
        string question = JsonlFile.OptionalString(o, "question", where) ?? JsonlFile.OptionalString(o, "prompt", where)
            ?? throw new PerkException($"{where}: missing field \"question\" (or \"prompt\")");
        string answer = JsonlFile.OptionalString(o, "answer", where) ?? JsonlFile.OptionalString(o, "api_call", where)
            ?? throw new PerkException($"{where}: missing field \"answer\" (or \"api_call\")");
        List<string>? support = o.TryGetProperty("support", out var sup) && sup.ValueKind != JsonValueKind.Null
            ? JsonlFile.StringList(sup, "support", where, allowString: true) : null;
        string? location = JsonlFile.OptionalString(o, "location", where);
        return new PerkExample($"{subset}_{index}", context, question, answer, support is { Count: > 0 } ? support : null,
            task, length, location);
    }
}
