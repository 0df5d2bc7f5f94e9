using System.Text.Json.Nodes;
using PerkSharp.Evaluation;
using PerkSharp.IO;
using PerkSharp.Tests.Training;
using PerkSharp.Training;

namespace PerkSharp.Tests.Cli;

/// <summary>The application commands end to end on a tiny run: train, encode, ask, eval, report; one-line errors.</summary>
public class AppCliTests : IClassFixture<AppCliTests.TinyTrainedRun>
{
    /// <summary>One tiny PERK run trained through `perk train` (shared by the tests of this class).</summary>
    public sealed class TinyTrainedRun : IDisposable
    {
        public string Root { get; } = TinyRun.TempDir("appcli");
        public string Run => Path.Combine(Root, "run");
        public string Document => Path.Combine(Root, "doc.txt");
        public CliRunner.Result TrainResult { get; }

        public TinyTrainedRun()
        {
            string baseDir = TinyRun.BaseModelFolder(Root);
            string data = Path.Combine(Root, "data", "babilong", "qa1_1k");
            Directory.CreateDirectory(data);
            foreach (var (split, n, seed) in new[] { ("train", 3, 1), ("validation", 2, 2), ("test", 3, 3) })
                File.WriteAllLines(Path.Combine(data, split + ".jsonl"), TinyRun.Examples(n, seed).Select(e => PerkSharp.Data.OfficialWriter.BabilongLine(e, null)));
            var cfg = TinyRun.Config(baseDir, Run, $"data_dir={Path.Combine(Root, "data")}", "num_train_epochs=1");
            File.WriteAllText(Path.Combine(Root, "tiny.yaml"), TrainConfigLoader.ToYaml(cfg));
            File.WriteAllText(Document, "The day was long. Mary Event 0: Mary went to the garden.\n\nRain fell. Mary Event 1: Mary went to the office.");
            TrainResult = CliRunner.Run("train", "--config", Path.Combine(Root, "tiny.yaml"), "--threads", "1");
        }

        public void Dispose() { try { Directory.Delete(Root, true); } catch (IOException) { } }
    }

    readonly TinyTrainedRun _run;
    public AppCliTests(TinyTrainedRun run) { _run = run; }

    [Fact]
    public void TrainWritesCheckpointsMetricsAndTensorBoard()
    {
        Assert.True(_run.TrainResult.ExitCode == 0, _run.TrainResult.Stderr);
        Assert.Contains("train: 3 steps", _run.TrainResult.Stdout);
        Assert.True(File.Exists(Path.Combine(_run.Run, "checkpoints", "last", PerkCheckpoint.MetaFile)));
        Assert.NotEmpty(RunLog.Read(Path.Combine(_run.Run, "metrics.jsonl")).Where(r => (string)r["kind"]! == "val"));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_run.Run, "tb"), "events.out.tfevents.*"));
        // The run's own learning curve: one csv row per logged step, val columns filled where validation ran.
        var csv = File.ReadAllLines(Path.Combine(_run.Run, "learning_curve.csv"));
        Assert.StartsWith("step,outer_loss,", csv[0]);
        Assert.Contains(csv.Skip(1), l => l.Split(',')[3].Length > 0);
        Assert.True(new FileInfo(Path.Combine(_run.Run, "learning_curve.png")).Length > 1000);
        Assert.Contains("learning_curve.png", _run.TrainResult.Stdout);
    }

    [Fact]
    public void SavedMemoryAnswersExactlyAsEncodingInProcessAndIsAPeftAdapter()
    {
        string mem = Path.Combine(_run.Root, "mem-" + Guid.NewGuid().ToString("N")[..6]);
        var enc = CliRunner.Run("encode", "--checkpoint", _run.Run, "--document", _run.Document, "--out", mem, "--threads", "1");
        Assert.True(enc.ExitCode == 0, enc.Stderr);
        var fromMemory = CliRunner.Run("ask", "--checkpoint", _run.Run, "--memory", mem, "Where is Mary?", "Where is John?", "--threads", "1");
        var fromDocument = CliRunner.Run("ask", "--checkpoint", _run.Run, "--document", _run.Document, "Where is Mary?", "Where is John?", "--threads", "1");
        Assert.True(fromMemory.ExitCode == 0, fromMemory.Stderr);
        Assert.Equal(fromDocument.Stdout, fromMemory.Stdout);
        Assert.Equal(2, fromMemory.Stdout.Split('\n').Count(l => l.StartsWith("A: ")));

        // In process, the same seed and document give the same answers as the CLI.
        Runtime.TorchRuntime.Initialize();
        using (var run = TrainedPerk.Open(_run.Run))
        {
            TorchSharp.torch.manual_seed(run.Config.Seed);
            using var memory = run.System.Encode(Perk.Segment(Perk.ReadDocument(_run.Document), run.Base.Tokenizer, run.Base.Model.Config.MaxPositionEmbeddings));
            var answers = run.System.Answer(memory, new[] { "Where is Mary?", "Where is John?" }, run.Config.MaxNewTokens);
            string expected = $"Q: Where is Mary?\nA: {OutputText.Clean(run.Base.Tokenizer, answers[0])}\nQ: Where is John?\nA: {OutputText.Clean(run.Base.Tokenizer, answers[1])}\n";
            Assert.Equal(expected, fromMemory.Stdout);
        }

        // PEFT layout: adapter_config.json fields and PEFT key names (GPT-2: Conv1D => fan_in_fan_out).
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(mem, "adapter_config.json")))!;
        Assert.Equal("LORA", (string)cfg["peft_type"]!);
        Assert.Equal(2, (int)cfg["r"]!);
        Assert.Equal(2.0, (double)cfg["lora_alpha"]!);
        Assert.True((bool)cfg["use_rslora"]!);
        Assert.True((bool)cfg["fan_in_fan_out"]!);
        Assert.Equal(new[] { "c_attn", "c_fc", "c_proj" }, cfg["target_modules"]!.AsArray().Select(n => (string)n!).ToArray());
        var keys = Safetensors.ReadHeader(Path.Combine(mem, "adapter_model.safetensors")).Tensors.Select(t => t.Name).ToList();
        Assert.Contains("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", keys);
        Assert.Contains("base_model.model.transformer.h.0.mlp.c_proj.lora_B.weight", keys);
        Assert.All(keys, k => Assert.Matches(@"^base_model\.model\.transformer\.h\.\d+\.(attn|mlp)\.c_(attn|proj|fc)\.lora_[AB]\.weight$", k));
    }

    [Fact]
    public void EvalWritesRecomputableOutputsAndReportWritesPngs()
    {
        string outDir = Path.Combine(_run.Root, "eval-" + Guid.NewGuid().ToString("N")[..6]);
        var r = CliRunner.Run("eval", "--checkpoint", _run.Run, "--data", Path.Combine(_run.Root, "data"), "--out", outDir, "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var recs = EvalRecord.ReadAll(Path.Combine(outDir, "outputs.jsonl"));
        Assert.Equal(3, recs.Count);
        Assert.All(recs, x => Assert.Equal(PerkMetrics.ExactMatch(x.Output, x.Answer), x.Em));
        Assert.All(recs, x => Assert.True(x.EncodeMs > 0 && x.AnswerMs > 0));
        var m = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!;
        Assert.Equal(recs.Average(x => x.Em), (double)m["em"]!, 12);
        var rep = CliRunner.Run("report", outDir, "--out", Path.Combine(outDir, "report"));
        Assert.True(rep.ExitCode == 0, rep.Stderr);
        Assert.True(new FileInfo(Path.Combine(outDir, "report", "accuracy_vs_length.png")).Length > 1000);
    }

    [Fact]
    public void QuickstartSummaryIsRecomputableFromTheOutputsBesideIt()
    {
        // Summarize is what the quickstart writes summary.json with; check it against an independent recomputation.
        string outDir = Path.Combine(_run.Root, "qs-" + Guid.NewGuid().ToString("N")[..6]);
        foreach (var method in new[] { "perk", "bm25" })
        {
            var r = CliRunner.Run("eval", "--checkpoint", _run.Run, "--data", Path.Combine(_run.Root, "data"), "--method", method,
                "--out", Path.Combine(outDir, "eval", method), "--threads", "1");
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        var summary = Quickstart.Summarize(Path.Combine(outDir, "eval"), 1.0);
        var lines = Directory.GetFiles(Path.Combine(outDir, "eval"), "outputs.jsonl", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines).Select(l => JsonNode.Parse(l)!).ToList();
        var rows = summary["rows"]!.AsArray();
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            var sel = lines.Where(l => (string)l["method"]! == (string)row!["method"]! && (string)l["task"]! == (string)row["task"]!
                                        && (int)l["length"]! == (int)row["length"]!).ToList();
            Assert.Equal(sel.Count, (int)row!["n"]!);
            Assert.Equal(sel.Average(l => (double)l["em"]!), (double)row["em"]!, 12);
            Assert.Equal(sel.Average(l => (double)l["f1"]!), (double)row["f1"]!, 12);
        }
    }

    [Theory]
    [InlineData("lora_rank: 0\n", "\"lora_rank\" must be between 1 and 65536 (got 0)")]
    [InlineData("learnig_rate: 1\n", "did you mean \"learning_rate\"")]
    public void TrainConfigErrorsAreOneLineWithExitCode2(string yaml, string expected)
    {
        string f = Path.Combine(_run.Root, Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(f, yaml);
        var r = CliRunner.Run("train", "--config", f);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
    }

    [Fact]
    public void AskNeedsExactlyOneSourceAndEncodeRejectsAnEmptyDocument()
    {
        var r = CliRunner.Run("ask", "--checkpoint", _run.Run, "Where?");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("exactly one of --memory MEMORY or --document FILE", r.Stderr);
        string empty = Path.Combine(_run.Root, "empty.txt");
        File.WriteAllText(empty, "  \n");
        r = CliRunner.Run("encode", "--checkpoint", _run.Run, "--document", empty, "--out", Path.Combine(_run.Root, "m0"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("the document is empty", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_run.Root, "m0")));
    }

    [Fact]
    public void AskRejectsAnEmptyQuestion()
    {
        var r = CliRunner.Run("ask", "--checkpoint", _run.Run, "--document", _run.Document, "Where is Mary?", " ", "--threads", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("question 2 is empty", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    /// <summary>Fast weights adapted on one base are meaningless on another of the same shapes: ask must refuse them.</summary>
    [Fact]
    public void AskRefusesAMemoryEncodedOnAnotherBaseModel()
    {
        string mem = Path.Combine(_run.Root, "mem-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(0, CliRunner.Run("encode", "--checkpoint", _run.Run, "--document", _run.Document, "--out", mem, "--threads", "1").ExitCode);

        // The same run on a re-initialised base (same shapes, other weights).
        string other = TinyRun.TempDir("otherbase");
        try
        {
            string base2 = TinyRun.BaseModelFolder(other, seed: 6);
            string run2 = Path.Combine(other, "run");
            TinyRun.CopyDirectory(_run.Run, run2);
            string base1 = PerkCheckpoint.BaseModel(CheckpointManager.Resolve(_run.Run));
            foreach (var info in Directory.GetFiles(run2, PerkCheckpoint.InfoFile, SearchOption.AllDirectories))
                File.WriteAllText(info, File.ReadAllText(info).Replace(JsonValue.Create(base1).ToJsonString(), JsonValue.Create(base2).ToJsonString()));
            Assert.Equal(base2, PerkCheckpoint.BaseModel(CheckpointManager.Resolve(run2)));

            var r = CliRunner.Run("ask", "--checkpoint", run2, "--memory", mem, "Where is Mary?", "--threads", "1");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("encoded on a different base model", r.Stderr);
            Assert.Equal(0, CliRunner.Run("ask", "--checkpoint", _run.Run, "--memory", mem, "Where is Mary?", "--threads", "1").ExitCode);
        }
        finally { try { Directory.Delete(other, true); } catch (IOException) { } }
    }
}
