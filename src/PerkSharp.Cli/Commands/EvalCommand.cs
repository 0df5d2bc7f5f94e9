using System.CommandLine;
using System.Text.Json.Nodes;
using PerkSharp.Data;
using PerkSharp.Evaluation;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk eval --checkpoint RUN --data DIR`: test-time adaptation + greedy decoding per example; outputs.jsonl + metrics.json.</summary>
public sealed class EvalCommand : ICliCommand
{
    public Command Build()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Run folder (best checkpoint by val_loss) or checkpoint folder", Required = true };
        var data = new Option<string>("--data") { Description = "A .jsonl file, or a folder searched for every dataset family's --split files (docs/DATA.md)", Required = true };
        var method = new Option<string?>("--method") { Description = "perk | ttft | ft_icr | bm25 (default: what the checkpoint was trained as)" };
        var outDir = new Option<string?>("--out") { Description = "Output folder, new or empty (an earlier evaluation is replaced only with --force; default: RUN/eval/<method>_<data name>)" };
        var max = new Option<int?>("--max") { Description = "Evaluate at most this many examples per file (default: max_eval_data; 0 = all; each row once)" };
        var split = new Option<string>("--split") { Description = "Which split files to use inside a folder", DefaultValueFactory = _ => "test" };
        var bm25K = new Option<int>("--bm25-k") { Description = "Segments BM25 puts in the prompt", DefaultValueFactory = _ => 1 };
        var ttftLr = new Option<double>("--ttft-lr") { Description = "Fixed inner rate of the TTFT baseline", DefaultValueFactory = _ => 3e-3 };
        var overrides = new Argument<string[]>("key=value") { Description = "Test-time overrides of the checkpoint's config, e.g. inner_grad_accum=4 (applied last); experiment=meta_test is short for --config configs/meta_test.yaml", Arity = ArgumentArity.ZeroOrMore };
        var config = new Option<string?>("--config") { Description = "Test config, e.g. configs/meta_test.yaml: its test-time keys (" + string.Join(", ", TestConfig.TestTimeKeys) + ") over the checkpoint's own config" };
        var force = new Option<bool>("--force") { Description = "Replace evaluation folders that already exist (nothing else is ever replaced)" };
        var resume = new Option<bool>("--resume") { Description = "Continue evaluations that were stopped: finished rows are kept and never redone (refused when the checkpoint, data, method or overrides differ)" };
        var cmd = new Command("eval", "Evaluate a trained run (or a baseline) on data: outputs.jsonl, metrics.json, summary by task/length/position")
            { checkpoint, data, config, method, outDir, max, split, bm25K, ttftLr, force, resume, MemoryOption.MaxMemory, overrides };
        cmd.SetHandler(parse =>
        {
            if (parse.GetValue(max) < 0) throw new PerkException($"--max {parse.GetValue(max)}: expected 0 (all rows) or a positive count");
            // Method, data and output folders are settled from the config alone: a refused --out costs no model load.
            var test = TestConfig.Read(parse.GetValue(checkpoint)!, parse.GetValue(config), parse.GetValue(overrides));
            var (cfg, checkpointDir) = (test.Config, test.CheckpointDir);
            int cap = parse.GetValue(max) ?? cfg.MaxEvalData;
            bool ftIcrRun = cfg.Method == "ft_icr";
            string m = parse.GetValue(method) ?? (ftIcrRun ? "ft_icr" : "perk");
            string name = m switch
            {
                "perk" when !ftIcrRun => "perk",
                "ttft" => "ttft",
                "ft_icr" when ftIcrRun => "ft_icr",
                "bm25" => $"bm25_top{parse.GetValue(bm25K)}",
                "perk" or "ft_icr" => throw new PerkException($"--method {m}: the checkpoint was trained as {cfg.Method}"),
                _ => throw new PerkException($"--method {m}: expected perk, ttft, ft_icr or bm25"),
            };
            string d = parse.GetValue(data)!;
            var sets = DatasetRegistry.Discover(d).Where(s => File.Exists(d) || s.Split == parse.GetValue(split)).ToList();
            if (sets.Count == 0) throw new PerkException($"{d}: no {parse.GetValue(split)} data found (layouts: {string.Join(", ", DatasetRegistry.Families.Select(f => f.Layout))})");
            string? given = parse.GetValue(outDir);
            string root = given ?? Path.Combine(parse.GetValue(checkpoint)!, "eval");
            var jobs = sets.Select(s =>
            {
                string tag = s.Name.Replace(Path.DirectorySeparatorChar, '_').Replace(".jsonl", "");
                return (s.Name, s.Load, Tag: tag, Dir: sets.Count == 1 && given != null ? root : Path.Combine(root, $"{name}_{tag}"));
            }).ToList();
            if (jobs[0].Dir != root) OutputGuard.Into(root, EvalFolder.SetKind);
            var budget = MemoryOption.Check(parse, parse.GetValue(checkpoint)!, null, null);
            int batchSize = Math.Max(1, cfg.EvalBatchSize);                     // eval_batch_size: examples answered together
            var methodOptions = m == "ttft" ? new JsonObject { ["ttft_lr"] = parse.GetValue(ttftLr) }
                : m == "bm25" ? new JsonObject { ["bm25_k"] = parse.GetValue(bm25K) } : new JsonObject();
            string baseDir = PerkCheckpoint.BaseModel(checkpointDir), configYaml = TrainConfigLoader.ToYaml(cfg);
            // Rows and folders are settled from the data and files alone: a refused --out or --resume costs no model load
            // (and is the only line printed: the notes on capped files follow once every folder is accepted).
            var notes = new List<string>();
            var plans = jobs.Select(j =>
            {
                var examples = j.Load();
                string file = File.Exists(d) ? d : Path.Combine(d, j.Name);
                var lines = RowLines(file, examples.Count);
                if (cap > 0 && examples.Count > cap)
                {
                    notes.Add($"eval: {(parse.GetValue(max) != null ? "--max" : "max_eval_data")} {cap}: the first {cap} of {examples.Count} rows of {j.Name}");
                    examples = examples.Take(cap).ToList();
                }
                var rows = examples.Select((ex, i) => new EvalJournal.Row(ex.Id, lines?[i].ToString() ?? $"row {i + 1}")).ToList();
                var settings = EvalJournal.Settings(checkpointDir, baseDir, file, examples, name, methodOptions, parse.GetValue(split),
                    cap, parse.GetValue(overrides) ?? Array.Empty<string>(), configYaml);
                return (j.Name, j.Tag, j.Dir, File: file, Examples: examples, Rows: rows,
                        Journal: EvalJournal.Open(j.Dir, settings, parse.GetValue(resume), parse.GetValue(force), rows, batchSize));
            }).ToList();
            foreach (var note in notes) Console.Error.WriteLine(note);

            using var run = TrainedPerk.OpenWith(checkpointDir, cfg);
            run.System.Budget = budget;
            Console.Error.WriteLine($"eval: checkpoint {checkpointDir}");          // a run folder resolves to its best checkpoint
            foreach (var line in test.Describe()) Console.Error.WriteLine("eval: " + line);
            Console.Error.WriteLine($"eval: base {run.Base.Describe()}");   // says whether bf16: true took effect
            using var ttft = m == "ttft" ? new MetaParameters(run.Base.Model, PerkSettingsMapper.ToSettings(run.Config) with
                { LearnedStepSizes = false, WeightedLoss = false, InnerLr = parse.GetValue(ttftLr) }, seed: run.Config.Seed) : null;
            IEvalMethod evalMethod = m switch
            {
                "perk" => new PerkMethod(run.System, run.Config.MaxNewTokens, name),
                "ttft" => new PerkMethod(new PerkSystem(run.Base.Model, run.Base.Tokenizer, ttft!, run.Base.Directory) { Budget = budget }, run.Config.MaxNewTokens, name),
                "ft_icr" => new InContextMethod(run.Base.Model, run.Base.Tokenizer, run.Meta, run.Config.MaxNewTokens, name),
                _ => new InContextMethod(run.Base.Model, run.Base.Tokenizer, run.IsFtIcr ? run.Meta : null, run.Config.MaxNewTokens, name, parse.GetValue(bm25K)),
            };
            var all = new List<EvalRecord>();
            int failedRows = 0;
            foreach (var (setName, tag, dir, file, examples, rows, journal) in plans)
            {
                if (journal.Finished) Console.Error.WriteLine($"eval: {dir}: finished earlier, kept as it is");
                else
                {
                    journal.Begin();
                    if (journal.Done > 0) Console.Error.WriteLine($"eval: {dir}: resuming after {journal.Done} of {examples.Count} rows");
                    // A row that cannot be evaluated is recorded (file, line, reason) and the others are still scored;
                    // each batch's failures and outputs reach the folder as soon as the batch is done.
                    var pending = new List<EvalFolder.Failure>();
                    EvalHarness.Run(evalMethod, examples, (p, t) => (PerkMetrics.ExactMatch(p, t), PerkMetrics.F1(p, t)), null, $"eval {tag}",
                        batchSize: batchSize, start: journal.Done,
                        onFailure: (i, e) => pending.Add(new EvalFolder.Failure(file, rows[i].Line, examples[i].Id, e.Message)),
                        onBatch: (_, records) => { journal.Append(pending, records); pending.Clear(); });
                    journal.Finish(test.Record(name, cap));
                }
                all.AddRange(journal.Records);
                failedRows += journal.Failures.Count;
                Console.Error.WriteLine($"eval: {examples.Count} examples of {setName} -> {dir}" +
                                        (journal.Failures.Count > 0 ? $" ({journal.Failures.Count} could not be evaluated, see {EvalFolder.Failures})" : ""));
                foreach (var f in journal.Failures) Console.Error.WriteLine($"eval: {f.File}:{f.Line}: not evaluated: {f.Reason}");
            }
            Console.WriteLine(ReportWriter.Markdown(all));
            if (failedRows > 0) Console.WriteLine($"{failedRows} row(s) could not be evaluated (listed in {EvalFolder.Failures})");
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// The 1-based file line of each example when the file holds one example per non-blank line (the JSONL
    /// layouts), else null (the failure then names the row).
    /// </summary>
    static int[]? RowLines(string file, int count)
    {
        if (!File.Exists(file)) return null;
        var lines = File.ReadLines(file).Select((l, i) => (l, i)).Where(x => x.l.Trim().Length > 0).Select(x => x.i + 1).ToArray();
        return lines.Length == count ? lines : null;
    }
}
