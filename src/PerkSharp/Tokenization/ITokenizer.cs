namespace PerkSharp.Tokenization;

/// <summary>
/// The one tokenizer interface the engine uses (GPT-2 BPE, Qwen2 BPE, WordLevel). Special-token conventions follow
/// the official code: GPT-2 uses end-of-text as padding; generation pads on the left.
/// </summary>
public interface ITokenizer
{
    int VocabSize { get; }
    int EosId { get; }
    int PadId { get; }
    int? BosId { get; }

    /// <summary>The end-of-text string (e.g. "&lt;|endoftext|&gt;"), appended to segment and answer texts.</summary>
    string EosToken { get; }

    /// <summary>Token ids of <paramref name="text"/>, without any special tokens added.</summary>
    IReadOnlyList<int> Encode(string text);

    /// <summary>Text of <paramref name="ids"/>; special tokens are skipped when <paramref name="skipSpecial"/>.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecial = true);

    /// <summary>Number of tokens of <paramref name="text"/> (may be faster than Encode).</summary>
    int CountTokens(string text) => Encode(text).Count;

    /// <summary>Writes the tokenizer files into a model folder so that the folder is self-contained.</summary>
    void Save(string directory);
}
