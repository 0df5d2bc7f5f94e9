using System.CommandLine;
using PerkSharp.Data;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk pretrain`: a tiny GPT-2 with a WordLevel vocabulary, trained from scratch, saved as an HF folder.</summary>
public sealed class PretrainCommand : ICliCommand
{
    public Command Build()
    {
        var o = new PretrainOptions();
        var outDir = new Option<string>("--out") { Description = "Output HF model folder: new, empty, or one pretrained with the same recipe (reused)", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it holds a model pretrained otherwise (any other folder is never replaced)" };
        var data = new Option<string[]>("--data") { Description = "Task JSONL files or folders whose train.jsonl files add task text (repeatable)", AllowMultipleArgumentsPerToken = true };
        var prose = new Option<int>("--prose") { Description = "Haystack prose sentences of the training books to include", DefaultValueFactory = _ => 6000 };
        var vocab = new Option<int>("--vocab") { Description = "Maximum vocabulary size", DefaultValueFactory = _ => 3000 };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps", DefaultValueFactory = _ => o.Steps };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => o.Layers };
        var hidden = new Option<int>("--hidden") { DefaultValueFactory = _ => o.Hidden };
        var heads = new Option<int>("--heads") { DefaultValueFactory = _ => o.Heads };
        var positions = new Option<int>("--positions") { Description = "n_positions (longest input)", DefaultValueFactory = _ => o.Positions };
        var window = new Option<int>("--window") { Description = "Tokens per training window", DefaultValueFactory = _ => o.Window };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => o.LearningRate };
        var batch = new Option<int>("--batch") { Description = "Windows per optimizer step", DefaultValueFactory = _ => o.BatchSize };
        var longEvery = new Option<int>("--long-every") { Description = "Every this many steps train on full-length windows (0: never)", DefaultValueFactory = _ => o.LongWindowEvery };
        var initStd = new Option<double>("--init-std") { Description = "initializer_range (normal init std)", DefaultValueFactory = _ => o.InitStd };
        var drills = new Option<int>("--drills") { Description = "In-context BabiLong drills (short stories, question, tagged answer) added to the corpus", DefaultValueFactory = _ => o.Drills };
        var tasks = new Option<int[]>("--drill-tasks") { Description = "bAbI tasks of the drills", DefaultValueFactory = _ => new[] { 1 }, AllowMultipleArgumentsPerToken = true };
        var longDrills = new Option<int>("--long-drills") { Description = "In-context drills with the BabiLong haystack (full-length windows start at them)", DefaultValueFactory = _ => o.LongDrills };
        var longLength = new Option<string>("--long-drill-length") { Description = "BabiLong length of the long drills", DefaultValueFactory = _ => o.LongDrillLength };
        var reading = new Option<int>("--reading-drills") { Description = "Supervised in-context BabiLong drills (loss on the answer only) that teach reading a haystack context", DefaultValueFactory = _ => o.ReadingDrills };
        var readingLengths = new Option<string>("--reading-lengths") { Description = "BabiLong lengths of the reading drills, cycled", DefaultValueFactory = _ => o.ReadingLengths };
        var readingFrom = new Option<double>("--reading-from") { Description = "Fraction of the steps after which reading batches start", DefaultValueFactory = _ => o.ReadingFrom };
        var readingEvery = new Option<int>("--reading-every") { Description = "From then on, every this many steps is a reading batch", DefaultValueFactory = _ => o.ReadingEvery };
        var readingBatch = new Option<int>("--reading-batch") { Description = "Reading drills per reading batch", DefaultValueFactory = _ => o.ReadingBatch };
        var probe = new Option<int>("--probe") { Description = "Held-out reading drills scored (teacher-forced) every tenth of the steps when reading drills are on", DefaultValueFactory = _ => QuickstartData.ProbeDrills };
        var arch = new Option<string>("--arch") { Description = "gpt2 (learned positions) or llama (rotary positions)", DefaultValueFactory = _ => o.Arch };
        var cmd = new Command("pretrain", "Train a tiny GPT-2 (WordLevel tokenizer) from scratch on task text plus haystack prose; save as an HF folder")
            { outDir, force, data, prose, vocab, steps, layers, hidden, heads, positions, window, lr, drills, tasks, batch, longEvery, initStd, longDrills, longLength, reading, readingLengths, readingFrom, readingEvery, readingBatch, probe, arch };
        cmd.SetHandler(parse =>
        {
            var opts = new PretrainOptions
            {
                Steps = parse.GetValue(steps), Layers = parse.GetValue(layers), Hidden = parse.GetValue(hidden), Heads = parse.GetValue(heads),
                Positions = parse.GetValue(positions), Window = parse.GetValue(window), LearningRate = parse.GetValue(lr), Drills = parse.GetValue(drills),
                BatchSize = parse.GetValue(batch), LongWindowEvery = parse.GetValue(longEvery), InitStd = parse.GetValue(initStd),
                LongDrills = parse.GetValue(longDrills), LongDrillLength = parse.GetValue(longLength)!,
                ReadingDrills = parse.GetValue(reading), ReadingLengths = parse.GetValue(readingLengths)!, ReadingFrom = parse.GetValue(readingFrom),
                Arch = parse.GetValue(arch)!, ReadingEvery = parse.GetValue(readingEvery), ReadingBatch = parse.GetValue(readingBatch),
            };
            opts.Validate();
            var train = new List<PerkExample>();
            foreach (var d in parse.GetValue(data) ?? Array.Empty<string>())
                foreach (var s in DatasetRegistry.Discover(d))
                    if (File.Exists(d) || s.Split == "train") train.AddRange(s.Load());
            string dir = parse.GetValue(outDir)!;
            using var bm = BaseModel.LoadOrPretrain(dir, () => QuickstartData.PretrainCorpus(train, parse.GetValue(prose), parse.GetValue(tasks), opts), opts, parse.GetValue(vocab), Console.Error, parse.GetValue(force),
                () => QuickstartData.Reading(parse.GetValue(tasks)!, opts, parse.GetValue(probe), PerkSharp.Data.PerkRandom.DefaultSeed));
            Console.WriteLine($"pretrain: {bm.Describe()} ({train.Count} task examples in the corpus)");
            return 0;
        });
        return cmd;
    }
}
