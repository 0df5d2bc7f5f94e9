using PerkSharp.Data;
using PerkSharp.IO;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <summary>
/// A tiny end-to-end setting for application tests: bAbI-like examples, a WordLevel vocabulary built from them, a
/// random 1-layer GPT-2 saved as an HF folder, and a PERK config sized for milliseconds per meta-step.
/// </summary>
internal static class TinyRun
{
    static readonly string[] People = { "Mary", "John", "Daniel", "Sandra" };
    static readonly string[] Places = { "garden", "kitchen", "office", "hallway", "bedroom", "bathroom" };

    /// <summary>Recursive copy of a folder (files overwritten).</summary>
    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), true);
        foreach (var d in Directory.GetDirectories(from)) CopyDirectory(d, Path.Combine(to, Path.GetFileName(d)));
    }

    public static string TempDir(string tag)
    {
        string d = Path.Combine(Path.GetTempPath(), $"perk-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Examples with two short segments each; the answer is the last place of the asked person.</summary>
    public static List<PerkExample> Examples(int n, int seed)
    {
        var rnd = new Random(seed);
        var list = new List<PerkExample>();
        for (int i = 0; i < n; i++)
        {
            string who = People[rnd.Next(People.Length)], a = Places[rnd.Next(Places.Length)], b = Places[rnd.Next(Places.Length)];
            string fact = $"{who} Event 1: {who} went to the {b}.";
            var ctx = new[] { $"The day was long. {who} Event 0: {who} went to the {a}.", $"Rain fell. {fact}" };
            list.Add(new PerkExample($"tiny_{seed}_{i}", ctx, $"Where is {who}?", b, new[] { fact }, "babilong/qa1", 64));
        }
        return list;
    }

    public static WordLevelTokenizer Tokenizer() =>
        WordLevelTokenizer.Build(Examples(40, 99).SelectMany(e => e.Context.Append(PerkFormat.QuestionPrompt(2, e.Question) +
            PerkFormat.AnswerCompletion(e.Answer, e.Support, ""))).Append("doc_0: doc_1: doc_2:"), 200);

    /// <summary>Writes a random tiny GPT-2 + tokenizer as an HF folder and returns its path (more positions for long documents).</summary>
    public static string BaseModelFolder(string root, int seed = 5, int positions = 96)
    {
        TorchRuntime.Initialize();
        var tok = Tokenizer();
        var cfg = new ModelConfig
        {
            ModelType = "gpt2", VocabSize = tok.VocabSize, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, NumKeyValueHeads = 2,
            IntermediateSize = 32, MaxPositionEmbeddings = positions, HeadDim = 8, EosTokenId = tok.EosId, PadTokenId = tok.PadId, BosTokenId = tok.EosId,
        };
        using var model = ModelFactory.Create(cfg, seed: seed);
        string dir = Path.Combine(root, "base");
        HfCheckpoint.Save(dir, model, tok);
        return dir;
    }

    /// <summary>A PERK config for the tiny model (official method, small sizes; dropout on to exercise the RNG).</summary>
    public static TrainConfig Config(string baseDir, string outDir, params string[] extra) => TrainConfigLoader.Parse(
        $"model_name_or_path: {baseDir}\nlora_rank: 2\nlora_alpha: 2\nlora_dropout: 0.1\nn_inner_iter: 3\nunroll_start: 1\ninner_lr: 1e-2\n" +
        $"learning_rate: 1e-2\nnum_train_epochs: 2\nval_check_interval: 2\npacking: false\nmax_new_tokens: 6\nval_em_examples: 1\n" +
        $"max_val_data: 2\nsave_top_k: 2\noutput_dir: {outDir}\n", "tiny.yaml", extra);
}
