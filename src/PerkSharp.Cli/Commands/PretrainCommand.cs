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
        var outDir = new Option<string>("--out") { Description = "Output HF model folder", Required = true };
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
        var cmd = new Command("pretrain", "Train a tiny GPT-2 (WordLevel tokenizer) from scratch on task text plus haystack prose; save as an HF folder")
            { outDir, data, prose, vocab, steps, layers, hidden, heads, positions, window, lr };
        cmd.SetHandler(parse =>
        {
            var opts = new PretrainOptions
            {
                Steps = parse.GetValue(steps), Layers = parse.GetValue(layers), Hidden = parse.GetValue(hidden), Heads = parse.GetValue(heads),
                Positions = parse.GetValue(positions), Window = parse.GetValue(window), LearningRate = parse.GetValue(lr),
            };
            opts.Validate();
            var train = new List<PerkExample>();
            foreach (var d in parse.GetValue(data) ?? Array.Empty<string>())
                foreach (var (name, load) in DataFolder.Discover(d))
                    if (File.Exists(d) || Path.GetFileNameWithoutExtension(name) == "train") train.AddRange(load());
            string dir = parse.GetValue(outDir)!;
            using var bm = BaseModel.LoadOrPretrain(dir, () => QuickstartData.PretrainCorpus(train, parse.GetValue(prose)), opts, parse.GetValue(vocab), Console.Error);
            Console.WriteLine($"pretrain: {bm.Describe()} ({train.Count} task examples in the corpus)");
            return 0;
        });
        return cmd;
    }
}
