using System.CommandLine;
using PerkSharp.Data;
using PerkSharp.IO;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk check model|config|data|safetensors`: validates a user input with the same readers the real commands use,
/// in seconds and without loading weights, so a bad file fails before an hours-long run.
/// </summary>
public sealed class CheckCommand : ICliCommand
{
    public Command Build()
    {
        var cmd = new Command("check", "Validate inputs before a long run: model folders, train configs, data files, safetensors files");
        cmd.Subcommands.Add(Model());
        cmd.Subcommands.Add(Config());
        cmd.Subcommands.Add(DataSet());
        cmd.Subcommands.Add(SafetensorsFile());
        return cmd;
    }

    static Command Model()
    {
        var dir = new Argument<string>("dir") { Description = "HF-format model folder (config.json, model.safetensors or sharded index, tokenizer files)" };
        var cmd = new Command("model", "Load a model folder strictly: config.json, every safetensors header, tokenizer, then every tensor");
        cmd.Arguments.Add(dir);
        cmd.SetHandler(p =>
        {
            string d = p.GetValue(dir)!;
            if (File.Exists(d)) throw new PerkException($"{d}: is a file; expected a model folder (config.json + model.safetensors)");
            if (!Directory.Exists(d)) throw new PerkException($"{d}: model folder not found");
            // The loader's own steps, cheapest first, so the first problem is reported before any weight is read.
            var config = ModelConfig.Load(Path.Combine(d, "config.json"));
            var files = CheckpointFiles.Open(d);
            var tokenizer = TokenizerLoader.Load(d, config);
            TorchRuntime.Initialize(p.GetValue(CliGlobals.Threads));     // only now: header and config errors need no libtorch
            using var model = ModelFactory.CreateForLoading(config);
            HfCheckpoint.LoadWeights(model, files);
            Console.WriteLine($"ok: {config.ModelType}, {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, vocab {config.VocabSize} " +
                              $"(tokenizer {tokenizer.VocabSize}), {files.Tensors.Count} tensors in {files.Files.Count} file(s)");
            return 0;
        }, needsTorch: false);
        return cmd;
    }

    static Command Config()
    {
        var file = new Argument<string>("file") { Description = "A train/eval YAML config" };
        var overrides = new Argument<string[]>("overrides") { Description = "key=value overrides, as `perk train` takes them", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("config", "Check a YAML train config (keys, types, ranges) with optional key=value overrides");
        cmd.Arguments.Add(file);
        cmd.Arguments.Add(overrides);
        cmd.SetHandler(p =>
        {
            string f = p.GetValue(file)!;
            if (Directory.Exists(f)) throw new PerkException($"{f}: is a folder; expected a YAML config file");
            var c = TrainConfigLoader.Load(f, p.GetValue(overrides) ?? Array.Empty<string>());
            Console.WriteLine($"ok: method {c.Method}, model {c.ModelNameOrPath}, lora_rank {c.LoraRank}, n_inner_iter {c.NInnerIter}");
            return 0;
        }, needsTorch: false);
        return cmd;
    }

    static Command DataSet()
    {
        var path = new Argument<string>("path") { Description = "A data folder (official layout) or one .jsonl file" };
        var cmd = new Command("data", "Read every example of a data folder or JSONL file");
        cmd.Arguments.Add(path);
        cmd.SetHandler(p =>
        {
            string d = p.GetValue(path)!;
            var sets = DatasetRegistry.Discover(d);
            if (sets.Count == 0) throw new PerkException($"{d}: no data files found (expected .jsonl files)");
            int total = 0;
            foreach (var s in sets) total += s.Load().Count;
            Console.WriteLine($"ok: {sets.Count} file set(s), {total} examples");
            return 0;
        }, needsTorch: false);
        return cmd;
    }

    static Command SafetensorsFile()
    {
        var file = new Argument<string>("file") { Description = "A .safetensors file" };
        var cmd = new Command("safetensors", "Check a safetensors header (length, JSON, dtypes, shapes, offsets, overlaps)");
        cmd.Arguments.Add(file);
        cmd.SetHandler(p =>
        {
            string f = p.GetValue(file)!;
            if (Directory.Exists(f)) throw new PerkException($"{f}: is a folder; expected a .safetensors file");
            var h = SafetensorsHeader.Read(f);
            Console.WriteLine($"ok: {h.Tensors.Count} tensors, {h.FileLength - h.DataStart} data bytes");
            return 0;
        }, needsTorch: false);
        return cmd;
    }
}
