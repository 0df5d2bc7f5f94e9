using System.Text.Json.Nodes;
using PerkSharp.Tests.Cli;

namespace PerkSharp.Tests.Reliability;

/// <summary>
/// One tiny trained PERK run (random GPT-2 with 256 positions, 4 meta-steps on ten bAbI-like examples) made once by
/// the real `perk train` and copied per case, plus a memory written by `perk encode` — the starting points of the
/// checkpoint/memory bad inputs.
/// </summary>
internal static class TrainedRunFixture
{
    static readonly Lazy<string> Root = new(Build);

    /// <summary>The template folder: model/, data/, train.yaml, run/, mem/, doc.txt.</summary>
    public static string Template => Root.Value;

    /// <summary>Copies the template into <paramref name="dir"/> and returns it (paths inside train.yaml are rewritten).</summary>
    public static string CopyTo(string dir)
    {
        Training.TinyRun.CopyDirectory(Template, dir);
        string yaml = Path.Combine(dir, "train.yaml");
        File.WriteAllText(yaml, File.ReadAllText(yaml).Replace(Template, dir));
        return dir;
    }

    static string Build()
    {
        PerkSharp.Runtime.TorchRuntime.Initialize(1);
        string root = Path.Combine(Path.GetTempPath(), "perk-trained-" + Guid.NewGuid().ToString("N")[..8]);
        BadInputFixtures.RealModel(Path.Combine(root, "model"), new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = 32, ["n_layer"] = 1, ["n_head"] = 4,
            ["n_positions"] = 256, ["eos_token_id"] = 256,
        });
        KillResumeTests.WriteData(Path.Combine(root, "data", "babilong", "qa1_1k", "train.jsonl"));
        File.WriteAllText(Path.Combine(root, "train.yaml"), KillResumeTests.Yaml(root, "run", steps: 4));
        var t = CliRunner.RunIn(root, TimeSpan.FromMinutes(5), "train", "--config", Path.Combine(root, "train.yaml"), "--threads", "1");
        if (t.ExitCode != 0) throw new InvalidOperationException("fixture training failed: " + t.Stderr);
        File.WriteAllText(Path.Combine(root, "doc.txt"), "Mary went to the kitchen. John moved to the garden.\n");
        var e = CliRunner.RunIn(root, TimeSpan.FromMinutes(5), "encode", "--checkpoint", Path.Combine(root, "run"),
            "--document", Path.Combine(root, "doc.txt"), "--out", Path.Combine(root, "mem"), "--threads", "1");
        if (e.ExitCode != 0) throw new InvalidOperationException("fixture encoding failed: " + e.Stderr);
        return root;
    }
}
