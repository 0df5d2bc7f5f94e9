using System.CommandLine;
using PerkSharp.Runtime;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk ask --checkpoint RUN (--memory MEMORY | --document FILE) "q" ["q" ...]`: answer questions from a memory.
/// A thin wrapper over the facade (src/PerkSharp/Perk.cs), which holds every input check.
/// </summary>
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
            int? segmentTokens = parse.GetValue(EncodeCommand.SegmentTokens);
            Perk.CheckQuestions(qs);                                              // before the model loads
            if (doc != null) EncodeCommand.CheckSegmentTokens(parse.GetValue(checkpoint)!, segmentTokens);
            using var perk = Perk.Open(parse.GetValue(checkpoint)!);
            using var memory = mem != null ? perk.LoadMemory(mem) : perk.EncodeFile(doc!, segmentTokens);
            foreach (var a in perk.Ask(memory, qs, parse.GetValue(maxNew)))
                Console.WriteLine($"Q: {a.Question}\nA: {a.Raw}");
            return 0;
        });
        return cmd;
    }
}
