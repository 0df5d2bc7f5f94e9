using System.Text;
using System.Text.Json.Nodes;
using PerkSharp.Models;

namespace PerkSharp.Tests.Tokenization;

internal static class TokenizerTestUtil
{
    public static string TempDir(string tag)
    {
        string d = Path.Combine(Path.GetTempPath(), $"perk-{tag}-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    // Parsed from text: ModelConfig's readers expect JSON-backed values, as in a real config.json.
    public static ModelConfig Config(string modelType, int vocab) => ModelConfig.FromJson((JsonObject)JsonNode.Parse((modelType == "gpt2"
        ? new JsonObject { ["model_type"] = "gpt2", ["vocab_size"] = vocab, ["n_embd"] = 16, ["n_layer"] = 1, ["n_head"] = 2 }
        : new JsonObject
        {
            ["model_type"] = modelType, ["vocab_size"] = vocab, ["hidden_size"] = 16, ["num_hidden_layers"] = 1,
            ["num_attention_heads"] = 2, ["intermediate_size"] = 32,
        }).ToJsonString())!);

    /// <summary>
    /// GPT-2's bytes_to_unicode, written out here independently of the engine (as the HF reference defines it):
    /// printable latin-1 bytes map to themselves, the rest to 256, 257, ... in byte order.
    /// </summary>
    public static string ByteChar(int b)
    {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) return ((char)b).ToString();
        int n = 0;
        for (int x = 0; x < b; x++)
            if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) n++;
        return ((char)(256 + n)).ToString();
    }

    /// <summary>The independent checker's folder: 256 byte tokens (id = byte), &lt;|endoftext|&gt; = 256, no merges.</summary>
    public static void WriteByteLevel257(string dir)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteChar(b)] = b;
        vocab["<|endoftext|>"] = 256;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), vocab.ToJsonString(), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\n");
    }
}
