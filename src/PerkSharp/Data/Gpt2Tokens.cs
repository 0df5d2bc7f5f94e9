using Microsoft.ML.Tokenizers;

namespace PerkSharp.Data;

/// <summary>
/// GPT-2 BPE token counting for length budgets (BABILong measures lengths in GPT-2 tokens, docs/DATA.md).
/// One cached <see cref="TiktokenTokenizer"/> for the process (creating it parses the vocabulary: ~0.5 s).
/// </summary>
public static class Gpt2Tokens
{
    static readonly Lazy<TiktokenTokenizer> Tok = new(() => TiktokenTokenizer.CreateForModel("gpt2"));

    public static Tokenizer Tokenizer => Tok.Value;

    public static int Count(string text) => text.Length == 0 ? 0 : Tok.Value.CountTokens(text);

    public static IReadOnlyList<int> Encode(string text) =>
        text.Length == 0 ? Array.Empty<int>() : Tok.Value.EncodeToIds(text);

    public static string Decode(IEnumerable<int> ids) => Tok.Value.Decode(ids) ?? "";
}
