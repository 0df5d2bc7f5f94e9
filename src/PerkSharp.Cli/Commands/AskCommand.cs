using System.CommandLine;
using PerkSharp.Evaluation;
using PerkSharp.MetaLearning;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk ask --checkpoint RUN (--memory MEMORY | --document FILE) "q" ["q" ...]`: answer questions from a memory.</summary>
public sealed class AskCommand : ICliCommand
{
    public Command Build()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "The PERK run or checkpoint folder the memory belongs to", Required = true };
        var memoryDir = new Option<string?>("--memory") { Description = "A memory written by perk encode" };
        var document = new Option<string?>("--document") { Description = "Encode this document first (encode + ask in one go)" };
        var maxNew = new Option<int?>("--max-new-tokens") { Description = "Answer length limit (default: the run's max_new_tokens)" };
        var questions = new Argument<string[]>("question") { Description = "One or more questions", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("ask", "Answer questions about an encoded document (the document is not in the prompt)")
            { checkpoint, memoryDir, document, maxNew, EncodeCommand.SegmentTokens, questions };
        cmd.SetHandler(parse =>
        {
            string? mem = parse.GetValue(memoryDir), doc = parse.GetValue(document);
            if ((mem is null) == (doc is null)) throw new PerkException("give exactly one of --memory MEMORY or --document FILE");
            var qs = parse.GetValue(questions)!;
            int blank = Array.FindIndex(qs, q => string.IsNullOrWhiteSpace(q));
            if (blank >= 0) throw new PerkException($"question {blank + 1} is empty");
            if (doc != null) EncodeCommand.CheckSegmentTokens(parse.GetValue(checkpoint)!, parse.GetValue(EncodeCommand.SegmentTokens));
            using var run = TrainedPerk.Open(parse.GetValue(checkpoint)!);
            if (run.IsFtIcr) throw new PerkException($"{run.CheckpointDir}: an FT-ICR run has no encoder; ask needs a PERK run");
            TorchSharp.torch.manual_seed(run.Config.Seed);                       // the same adaptation as perk encode
            using PerkMemory memory = mem != null
                ? PerkMemory.Load(mem, run.Meta.Lora)
                : run.System.Encode(EncodeCommand.ReadDocument(doc!, parse.GetValue(EncodeCommand.SegmentTokens), run));
            if (memory.BaseFingerprint is { } fp && fp != IO.WeightsFingerprint.Of(run.Base.Directory))
                throw new PerkException($"{mem}: this memory was encoded on a different base model than {run.Base.Directory}; encode the document again with this run");
            var answers = run.System.Answer(memory, qs, parse.GetValue(maxNew) ?? run.Config.MaxNewTokens);
            for (int i = 0; i < qs.Length; i++)
                Console.WriteLine($"Q: {qs[i]}\nA: {OutputText.Clean(run.Base.Tokenizer, answers[i])}");
            return 0;
        });
        return cmd;
    }
}
