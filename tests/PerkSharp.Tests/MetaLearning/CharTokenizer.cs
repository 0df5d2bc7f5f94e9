using PerkSharp.Tokenization;

namespace PerkSharp.Tests.MetaLearning;

/// <summary>A byte-level test tokenizer: id = byte value (0..255), end-of-text = 256, vocabulary 257.</summary>
internal sealed class CharTokenizer : ITokenizer
{
    public int VocabSize => 257;
    public int EosId => 256;
    public int PadId => 256;
    public int? BosId => null;
    public string EosToken => "<|endoftext|>";
    public IReadOnlyList<int> Encode(string text) => System.Text.Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();
    public string Decode(IEnumerable<int> ids, bool skipSpecial = true) =>
        System.Text.Encoding.UTF8.GetString(ids.Where(i => i < 256).Select(i => (byte)i).ToArray());
    public void Save(string directory) => throw new NotSupportedException();
}
