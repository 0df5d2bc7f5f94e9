using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Data;
using PerkSharp.Evaluation;
using PerkSharp.IO;
using PerkSharp.Runtime;

namespace PerkSharp.Training;

/// <summary>What `perk reproduce babilong` runs; everything not listed here is the quickstart's recipe.</summary>
public sealed record ReproduceOptions
{
    public string Root { get; init; } = "runs/reproduce/babilong";
    public int[] Tasks { get; init; } = { 1, 2 };
    /// <summary>Tasks run side by side, one lane each with its own base copy (<see cref="Runtime.Lanes"/>); 0 = one per core, at most 2.</summary>
    public int Lanes { get; init; }
    /// <summary>Test lengths; PERK and FT-ICR are trained at <see cref="QuickstartOptions.TrainLength"/> of the recipe.</summary>
    public string[] Lengths { get; init; } = { "1k", "2k", "4k", "8k" };
    public int TestCount { get; init; } = 200;
    /// <summary>An HF base model folder; null = the quickstart's tiny base, pretrained (or reused) under Root/base.</summary>
    public string? ModelDir { get; init; }
    /// <summary>Training sizes, curriculum, configs, TTFT rates and pretraining: the quickstart's, so both stay one recipe.</summary>
    public QuickstartOptions Recipe { get; init; } = new();
    /// <summary>Where progress bars go (null: stderr).</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>
/// `perk reproduce babilong`: the paper's length-extrapolation experiment on BabiLong — per task one PERK (curriculum
/// facts-only → training length) and one FT-ICR model trained at the training length, TTFT with its rate chosen on
/// validation, BM25 top-1, each evaluated at every test length; then summary.json (means over the outputs.jsonl
/// beside it) and report.md. Every phase is resumable (<see cref="Phases"/>): a killed run, started again with the
/// same options, redoes only what was unfinished.
/// </summary>
public static class BabilongReproduction
{
    /// <summary>The file that marks a folder as a reproduction run (and says which), written before any work.</summary>
    public const string RunFile = "reproduce.json";
    const string Experiment = "babilong";
    static readonly OutputKind FolderKind = new("`perk reproduce babilong` run", new[] { RunFile });

    public static JsonObject Run(ReproduceOptions o, TextWriter log) => Run(o, new Phases(log, resumable: true));

    public static JsonObject Run(ReproduceOptions o, Phases phases)
    {
        Validate(o);
        var q = o.Recipe;
        string root = o.Root;
        Claim(root, phases.Log);
        string dataDir = Path.Combine(root, "data");

        // 1. Data: every split of every task, generated together (cheap next to training), reused as a whole.
        var splits = new List<(int Task, string Length, string Split, int Count)>();
        foreach (int t in o.Tasks)
        {
            if (q.WarmupCount > 0) splits.AddRange(new[] { (t, q.WarmupLength, "train", q.WarmupCount), (t, q.WarmupLength, "validation", q.ValCount) });
            splits.AddRange(new[] { (t, q.TrainLength, "train", q.TrainCount), (t, q.TrainLength, "validation", q.ValCount) });
            splits.AddRange(o.Lengths.Select(len => (t, len, "test", o.TestCount)));
        }
        string Data(int t, string len, string split, int n) => $"babilong qa{t}_{len} {split} n={n} segment={q.SegmentTokens} seed={q.DataSeed}";
        List<PerkExample> Read(int t, string len, string split, int n) => QuickstartData.Ensure(dataDir, t, len, split, n, q.SegmentTokens, q.DataSeed);
        phases.Run("data", dataDir, string.Join("\n", splits.Select(s => Data(s.Task, s.Length, s.Split, s.Count))), () =>
        {
            foreach (var s in splits) Read(s.Task, s.Length, s.Split, s.Count);
            return new JsonObject { ["files"] = splits.Count, ["examples"] = splits.Sum(s => s.Count) };
        }, r => $"data: {r["examples"]} examples in {r["files"]} files under {dataDir}");

        // 2. Base model: the tiny default (pretrained on the training splits of all tasks), or the given folder.
        string baseDir = o.ModelDir ?? Path.Combine(root, "base");
        if (o.ModelDir == null)
        {
            string recipe = $"pretrain {q.Pretrain} vocab={q.MaxVocab} prose={q.ProseSentences} tasks={string.Join(",", o.Tasks)} examples={q.PretrainExamples}\n" +
                            string.Join("\n", o.Tasks.Select(t => Data(t, q.TrainLength, "train", q.TrainCount)));
            phases.Run("base", baseDir, recipe, () =>
            {
                var train = o.Tasks.SelectMany(t => Read(t, q.TrainLength, "train", q.TrainCount).Take(q.PretrainExamples)).ToList();
                using var b = BaseModel.LoadOrPretrain(baseDir, () => QuickstartData.PretrainCorpus(train, q.ProseSentences, o.Tasks, q.Pretrain, q.DataSeed),
                    q.Pretrain, q.MaxVocab, phases.Log, reading: () => QuickstartData.Reading(o.Tasks, q.Pretrain, QuickstartData.ProbeDrills, q.DataSeed));
                return new JsonObject { ["model"] = b.Describe().Replace(" (pretrained now)", "") };   // the marker outlives "now"
            }, r => $"base model: {r["model"]}");
        }
        using var bm = BaseModel.Load(baseDir);
        phases.Restart();
        var pipeline = new BabilongPipeline(bm.Model, bm.Tokenizer, baseDir, BaseId(baseDir), phases, o.Progress);

        // 3. Per task: train PERK, FT-ICR and TTFT at the training length, evaluate every method at every test length.
        string evalRoot = Path.Combine(root, "eval");
        var cells = new HashSet<string>(StringComparer.Ordinal);
        var curves = new List<ExtrapolationReport.Run>();
        void RunTask(int t, BabilongPipeline pipeline)
        {
            string taskDir = Path.Combine(root, "train", $"qa{t}");
            var paths = new[] { $"model_name_or_path={baseDir}", $"data_dir={dataDir}" };
            string trainData = Data(t, q.TrainLength, "train", q.TrainCount), valData = Data(t, q.TrainLength, "validation", q.ValCount);
            var train = Read(t, q.TrainLength, "train", q.TrainCount);
            var val = Read(t, q.TrainLength, "validation", q.ValCount);
            var curriculum = new List<PerkStage>();
            if (q.WarmupCount > 0)
                curriculum.Add(new PerkStage($"qa{t} PERK stage 1 ({q.WarmupLength}, facts only)", Path.Combine(taskDir, $"perk_{q.WarmupLength}"),
                    Read(t, q.WarmupLength, "train", q.WarmupCount), Read(t, q.WarmupLength, "validation", q.ValCount),
                    q.PerkOverrides.Concat(q.WarmupOverrides).Concat(paths).Append($"dataset_subset=qa{t}_{q.WarmupLength}").ToList(),
                    Data(t, q.WarmupLength, "train", q.WarmupCount) + "\n" + Data(t, q.WarmupLength, "validation", q.ValCount)));
            curriculum.Add(new PerkStage($"qa{t} PERK meta-training ({q.TrainLength})", Path.Combine(taskDir, $"perk_{q.TrainLength}"), train, val,
                q.PerkOverrides.Concat(paths).Append($"dataset_subset=qa{t}_{q.TrainLength}").ToList(), trainData + "\n" + valData));
            using var perk = pipeline.TrainPerk(q.PerkYaml, "tiny_qa1.yaml", curriculum);
            using var ftIcr = pipeline.TrainFtIcr(q.FtIcrYaml, "tiny_ft_icr.yaml", q.FtIcrOverrides.Concat(paths).Append($"dataset_subset=qa{t}_{q.TrainLength}"),
                Path.Combine(taskDir, "ft_icr"), train, trainData, $"qa{t} FT-ICR fine-tuning");
            using var ttft = pipeline.ChooseTtftRate(perk.Config, q.TtftRates, val, Path.Combine(taskDir, "ttft"), valData, $"qa{t} TTFT");

            var perkRecords = new List<EvalRecord>();
            var methods = pipeline.Methods(perk, ftIcr, ttft, q.Bm25);
            foreach (var len in o.Lengths)
            {
                var tests = Read(t, len, "test", o.TestCount);
                foreach (var (m, recipe) in methods)
                {
                    string cell = $"{m.Name}_qa{t}_{len}";
                    lock (cells) cells.Add(cell);
                    var records = pipeline.Evaluate(m, recipe, tests, Path.Combine(evalRoot, cell), $"eval {m.Name} qa{t} {len}",
                        CellSeed(perk.Config.Seed, cell), q.EvalBatchSize, Data(t, len, "test", o.TestCount));
                    if (m.Name == "perk") perkRecords.AddRange(records);
                }
            }
            lock (curves)
                foreach (var stage in curriculum)
                    curves.Add(new ExtrapolationReport.Run($"qa{t}_{Path.GetFileName(stage.RunDir)}", stage.RunDir,
                        stage == curriculum[^1] ? perkRecords : new List<EvalRecord>()));
        }
        // Tasks are independent: with two lanes (one libtorch thread each, which the tiny model's small ops prefer)
        // each lane runs its share of the tasks on its own copy of the base model.
        int lanes = Math.Max(1, Math.Min(o.Lanes > 0 ? o.Lanes : Runtime.Lanes.Auto(), o.Tasks.Length));
        Runtime.Lanes.Run(Enumerable.Range(0, lanes).Select(lane => (Action)(() =>
        {
            using var copy = lane == 0 ? null : BaseModel.Load(baseDir);
            var p = copy == null ? pipeline : new BabilongPipeline(copy.Model, copy.Tokenizer, baseDir, BaseId(baseDir), phases, o.Progress);
            for (int i = lane; i < o.Tasks.Length; i += lanes) RunTask(o.Tasks[i], p);
        })).ToList(), Math.Max(1, TorchSharp.torch.get_num_threads() / lanes));
        curves.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        // 4. Summary and report over exactly this run's cells (a cell of other tasks or lengths from an earlier run goes).
        foreach (var dir in Directory.GetDirectories(evalRoot).Where(d => !cells.Contains(Path.GetFileName(d))))
        {
            Directory.Delete(dir, recursive: true);
            phases.Log.WriteLine($"removed {dir}: not a cell of this run");
        }
        var summary = Quickstart.Summarize(evalRoot, phases.WallSeconds);
        AtomicFile.WriteAllText(Path.Combine(root, "summary.json"), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        string model = o.ModelDir != null ? $"the base model in {o.ModelDir}" : $"the embedded tiny base model ({bm.Describe()})";
        ExtrapolationReport.Write(root, summary, ReportWriter.Collect(new[] { evalRoot }), curves, "perk reproduce babilong",
            $"Length extrapolation on BabiLong {string.Join(", ", o.Tasks.Select(t => $"qa{t}"))} with {model}: PERK, FT-ICR and TTFT trained at " +
            $"{q.TrainLength} ({q.TrainCount} training examples per task; PERK after a {q.WarmupLength} facts-only stage of {q.WarmupCount}), " +
            $"tested at {string.Join(", ", o.Lengths)} with n = {o.TestCount} examples per cell.");
        phases.Done($"summary {Path.Combine(root, "summary.json")}, report {Path.Combine(root, "report.md")}");
        return summary;
    }

    /// <summary>One-line errors for options no run could use, before anything is written.</summary>
    public static void Validate(ReproduceOptions o)
    {
        if (o.Tasks.Length == 0) throw new PerkException("--tasks: no task given (e.g. qa1,qa2)");
        foreach (int t in o.Tasks)
            if (t < 1 || t > 5) throw new PerkException($"--tasks: qa{t} is not a BabiLong task this generator has (qa1 to qa5)");
        if (o.Tasks.Distinct().Count() != o.Tasks.Length) throw new PerkException("--tasks: a task is listed twice");
        if (o.Lengths.Length == 0) throw new PerkException("--lengths: no length given (e.g. 1k,2k,4k,8k)");
        foreach (var len in o.Lengths)
            if (!LengthBudget.Names.Contains(len)) throw new PerkException($"--lengths: '{len}' is not one of {string.Join(", ", LengthBudget.Names)}");
        if (o.Lengths.Distinct().Count() != o.Lengths.Length) throw new PerkException("--lengths: a length is listed twice");
        if (o.TestCount < 1) throw new PerkException($"--test-count: need at least 1 (got {o.TestCount})");
        if (o.Recipe.TrainCount < 1) throw new PerkException($"--train-count: need at least 1 (got {o.Recipe.TrainCount})");
        if (o.ModelDir != null && !File.Exists(Path.Combine(o.ModelDir, "config.json")))
            throw new PerkException($"--model {o.ModelDir}: not a Hugging Face model folder (no config.json)");
    }

    /// <summary>"qa1,qa2" or "1,2" → {1, 2}.</summary>
    public static int[] ParseTasks(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(x => int.TryParse(x.StartsWith("qa", StringComparison.OrdinalIgnoreCase) ? x[2..] : x, out int n) ? n
            : throw new PerkException($"--tasks: '{x}' is not a task like qa1")).ToArray();

    public static string[] ParseLengths(string s) =>
        s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => x.ToLowerInvariant()).ToArray();

    /// <summary>
    /// The run folder is new, empty (checked by <see cref="OutputGuard"/>) or a reproduction of this experiment,
    /// which is resumed; its marker is written before any work so a run killed at once is still recognised.
    /// </summary>
    static void Claim(string root, TextWriter log)
    {
        string marker = Path.Combine(root, RunFile);
        if (File.Exists(marker))
        {
            string? kind;
            try { kind = JsonNode.Parse(File.ReadAllText(marker))?["experiment"]?.GetValue<string>(); }
            catch (Exception e) when (e is JsonException or InvalidOperationException) { kind = null; }
            if (kind == null) throw new PerkException($"{marker}: not a reproduction marker (no \"experiment\"); choose a new or empty folder");
            if (kind != Experiment) throw new PerkException($"{root}: holds a `perk reproduce {kind}` run, not {Experiment}; choose another --out");
            log.WriteLine($"resuming the reproduction in {root}: finished phases with unchanged recipes are reused");
            return;
        }
        OutputGuard.Folder(root, FolderKind, force: false);
        AtomicFile.WriteAllText(marker, new JsonObject { ["experiment"] = Experiment, ["command"] = "perk reproduce babilong" }.ToJsonString());
    }

    /// <summary>The weights' fingerprint plus the model's config and tokenizer files: a changed base retrains everything.</summary>
    static string BaseId(string dir)
    {
        var extra = new[] { "config.json", "tokenizer.json", "vocab.json", "merges.txt" }.Select(f => Path.Combine(dir, f)).Where(File.Exists)
            .Select(f => $"{Path.GetFileName(f)} {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))}");
        return $"weights {WeightsFingerprint.Of(dir)}; {string.Join("; ", extra)}";
    }

    /// <summary>A seed per cell from its name (FNV-1a), so a cell's seed does not depend on which other cells run.</summary>
    static int CellSeed(long baseSeed, string cell)
    {
        uint h = 2166136261;
        foreach (char c in cell) h = (h ^ c) * 16777619;
        return (int)(baseSeed + 1000 * (h % 100000));
    }
}
