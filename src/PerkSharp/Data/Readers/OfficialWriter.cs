using System.Text.Json.Nodes;

namespace PerkSharp.Data;

/// <summary>Serialises examples into the official JSONL records (docs/DATA.md), plus a "meta" object.</summary>
public static class OfficialWriter
{
    /// <summary>BABILong record: context, question, answer, support, meta.</summary>
    public static string BabilongLine(PerkExample e, JsonObject? meta) =>
        JsonlFile.Line(new JsonObject
        {
            ["context"] = Strings(e.Context),
            ["question"] = e.Question,
            ["answer"] = e.Answer,
            ["support"] = Strings(e.Support ?? Array.Empty<string>()),
            ["meta"] = meta?.DeepClone(),
        });

    /// <summary>LongGorilla record: context, question, answer, prompt (=question), api_call (=answer), location, meta.</summary>
    public static string LongGorillaLine(PerkExample e, JsonObject? meta) =>
        JsonlFile.Line(new JsonObject
        {
            ["context"] = Strings(e.Context),
            ["question"] = e.Question,
            ["answer"] = e.Answer,
            ["prompt"] = e.Question,
            ["api_call"] = e.Answer,
            ["location"] = e.Position,
            ["meta"] = meta?.DeepClone(),
        });

    internal static JsonArray Strings(IEnumerable<string> items) => new(items.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray());
}
