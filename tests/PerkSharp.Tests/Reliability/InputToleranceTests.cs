using PerkSharp.Data;

namespace PerkSharp.Tests.Reliability;

/// <summary>Inputs that look odd but are valid must not be rejected (found by the extra bad-input run).</summary>
public class InputToleranceTests
{
    [Fact]
    public void AJsonlFileWithAUtf8ByteOrderMarkReadsLikeOneWithout()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perk-bom-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string plain = BadInputFixtures.Jsonl(Path.Combine(dir, "a"), BadInputFixtures.GoodLine, BadInputFixtures.GoodLine);
            string bom = Path.Combine(dir, "bom.jsonl");
            File.WriteAllBytes(bom, new byte[] { 0xEF, 0xBB, 0xBF }.Concat(File.ReadAllBytes(plain)).ToArray());
            var a = GenericReader.Read(plain);
            var b = GenericReader.Read(bom);
            Assert.Equal(2, b.Count);
            Assert.Equal(a.Select(e => e.Question + e.Answer + string.Join("|", e.Context)), b.Select(e => e.Question + e.Answer + string.Join("|", e.Context)));
        }
        finally { try { Directory.Delete(dir, true); } catch { } }
    }
}
