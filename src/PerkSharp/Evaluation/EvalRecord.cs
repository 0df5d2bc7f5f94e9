using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using PerkSharp.Runtime;

namespace PerkSharp.Evaluation;

/// <summary>
/// One line of <c>outputs.jsonl</c>: what a method was asked, what it answered, its scores and its timings.
/// Every number in metrics.json and in the quickstart's summary.json is an aggregate of these lines.
/// </summary>
public sealed record EvalRecord
{
    [JsonPropertyName("guid")] public required string Guid { get; init; }
    [JsonPropertyName("method")] public required string Method { get; init; }
    [JsonPropertyName("task")] public required string Task { get; init; }
    /// <summary>Context length bucket in tokens (the data's length name, e.g. 1024 for "1k").</summary>
    [JsonPropertyName("length")] public int Length { get; init; }
    /// <summary>Gold position: pre|mid|post|rnd (LongGorilla) or the gold segment's relative position bucket.</summary>
    [JsonPropertyName("position")] public string? Position { get; init; }
    [JsonPropertyName("prompt")] public required string Prompt { get; init; }
    /// <summary>The gold target (tagged with support when the example has support).</summary>
    [JsonPropertyName("answer")] public required string Answer { get; init; }
    [JsonPropertyName("output")] public required string Output { get; init; }
    [JsonPropertyName("em")] public double Em { get; init; }
    [JsonPropertyName("f1")] public double F1 { get; init; }
    /// <summary>Substring EM (<see cref="PerkMetrics.SubExactMatch"/>); null in outputs written before it was recorded.</summary>
    [JsonPropertyName("subem")] public double? SubEm { get; init; }
    /// <summary>Time to turn the context into the method's memory (PERK/TTFT: the inner loop; BM25: indexing).</summary>
    [JsonPropertyName("encode_ms")] public double EncodeMs { get; init; }
    /// <summary>Time to produce the answer (greedy decoding, including any prompt prefill).</summary>
    [JsonPropertyName("answer_ms")] public double AnswerMs { get; init; }
    /// <summary>Tokens of the context as the method's tokenizer counts them.</summary>
    [JsonPropertyName("context_tokens")] public int ContextTokens { get; init; }
    [JsonPropertyName("segments")] public int Segments { get; init; }

    // Relaxed escaping keeps tags such as <output> readable in the file (still valid JSON).
    static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>One outputs.jsonl line (JsonException when it is not a record).</summary>
    public static EvalRecord FromJson(string line) => JsonSerializer.Deserialize<EvalRecord>(line, Options) ?? throw new JsonException("null");

    /// <summary>Writes outputs.jsonl atomically (temp file + rename).</summary>
    public static void WriteAll(string path, IEnumerable<EvalRecord> records)
    {
        var sb = new StringBuilder();
        foreach (var r in records) sb.Append(r.ToJson()).Append('\n');
        IO.AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Reads outputs.jsonl with line-numbered errors.</summary>
    public static List<EvalRecord> ReadAll(string path)
    {
        if (!File.Exists(path)) throw new PerkException($"{path}: outputs file not found");
        var list = new List<EvalRecord>();
        int n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Length == 0) continue;
            try { list.Add(JsonSerializer.Deserialize<EvalRecord>(line, Options) ?? throw new JsonException("null")); }
            catch (JsonException e) { throw new PerkException($"{path}:{n}: not an outputs record ({e.Message.Split('\n')[0]})"); }
        }
        return list;
    }
}
