using PerkSharp;
using PerkSharp.Runtime;

// QuickAsk RUN DOCUMENT QUESTION [MEMORY]: encodes DOCUMENT with the PERK run (or checkpoint) folder RUN and answers
// QUESTION from the adapted LoRA alone; the document is never in the prompt. With MEMORY, the memory is saved there
// on the first run and loaded from there afterwards (encode once, ask many).
if (args.Length is < 3 or > 4)
{
    Console.Error.WriteLine("usage: QuickAsk RUN DOCUMENT QUESTION [MEMORY]");
    return 2;
}
string run = args[0], document = args[1], question = args[2];
string? memoryDir = args.Length == 4 ? args[3] : null;
try
{
    using var perk = Perk.Open(run);
    bool reuse = memoryDir != null && Directory.Exists(memoryDir);
    using var memory = reuse ? perk.LoadMemory(memoryDir!) : perk.EncodeFile(document);
    if (memoryDir != null && !reuse) memory.Save(memoryDir);
    PerkAnswer answer = perk.Ask(memory, question);
    Console.WriteLine($"memory: {(reuse ? "loaded from " + memoryDir : $"encoded {memory.NumDocuments} segments")}");
    Console.WriteLine($"output: {answer.Output}");
    Console.WriteLine($"support: {answer.Support}");
    Console.WriteLine($"Q: {question}\nA: {answer.Raw}");                  // the whole reply, as `perk ask` prints it
    return 0;
}
catch (PerkException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}
