using System.CommandLine;
using PerkSharp.Cli;

// `perk`: every command lives in Commands/*.cs as an ICliCommand and is discovered here, so adding a command never
// touches this file.
var root = new RootCommand("PerkSharp: PERK (Parameter-Efficient Reasoning over Knowledge) for .NET — meta-learned test-time LoRA encoding of long contexts.");
root.Options.Add(CliGlobals.Threads);
root.Options.Add(CliGlobals.Verbose);
foreach (var command in CliGlobals.DiscoverCommands()) root.Subcommands.Add(command);

if (args.Length == 0) args = new[] { "--help" };
var parse = root.Parse(args);
if (parse.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
{
    // Usage errors are one line (the first problem) plus a pointer to help, and a non-zero exit.
    string cmd = parse.CommandResult.Command == root ? "perk" : "perk " + parse.CommandResult.Command.Name;
    var error = parse.Errors.FirstOrDefault(e => !e.Message.StartsWith("Required command", StringComparison.Ordinal)) ?? parse.Errors[0];
    Console.Error.WriteLine($"error: {error.Message} (see `{cmd} --help`)");
    return CliGlobals.UserError;
}
return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
