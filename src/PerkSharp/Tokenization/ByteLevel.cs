using System.Text;

namespace PerkSharp.Tokenization;

/// <summary>
/// GPT-2's byte-to-unicode table (every byte maps to one printable char, e.g. space -> 'Ġ') and the pre-tokenizer
/// regexes of GPT-2, Qwen2 and Llama 3, as in the HF tokenizers these models ship with.
/// </summary>
public static class ByteLevel
{
    /// <summary>GPT-2's pre-tokenizer split pattern (tokenizers' ByteLevel use_regex).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's Split pre-tokenizer pattern (single digits).</summary>
    public const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Llama 3's Split pre-tokenizer pattern (digits in groups of up to three).</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static string PatternFor(string modelType) => modelType switch
    {
        "qwen2" => Qwen2Pattern,
        "llama" => Llama3Pattern,
        _ => Gpt2Pattern,
    };

    static readonly char[] ByteToChar = BuildTable();

    static char[] BuildTable()
    {
        var printable = new List<int>();
        for (int b = '!'; b <= '~'; b++) printable.Add(b);
        for (int b = 0xA1; b <= 0xAC; b++) printable.Add(b);
        for (int b = 0xAE; b <= 0xFF; b++) printable.Add(b);
        var table = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
            table[b] = printable.Contains(b) ? (char)b : (char)(256 + next++);
        return table;
    }

    /// <summary>The char byte <paramref name="b"/> is written as in a byte-level vocabulary.</summary>
    public static char CharOf(byte b) => ByteToChar[b];

    /// <summary>The byte-level spelling of raw bytes (e.g. " the" -> "Ġthe").</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes) sb.Append(ByteToChar[b]);
        return sb.ToString();
    }

    /// <summary>
    /// The smallest byte-level vocabulary: the 256 byte tokens in byte order (id = byte value) followed by
    /// <paramref name="specials"/> (ids 256, 257, ...). No merges: every byte is one token.
    /// </summary>
    public static Dictionary<string, int> ByteVocabulary(params string[] specials)
    {
        var v = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++) v[ByteToChar[b].ToString()] = b;
        foreach (var s in specials) v[s] = v.Count;
        return v;
    }
}
