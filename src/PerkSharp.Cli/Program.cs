using System.CommandLine;
using PerkSharp.Cli;

// `perk`: every command lives in Commands/*.cs as an ICliCommand and is discovered here, so adding a command never
// touches this file.
var root = new RootCommand("PerkSharp: PERK (Parameter-Efficient Reasoning over Knowledge) for .NET — meta-learned test-time LoRA encoding of long contexts.");
root.Options.Add(CliGlobals.Threads);
root.Options.Add(CliGlobals.Verbose);
foreach (var command in CliGlobals.DiscoverCommands()) root.Subcommands.Add(command);
var config = new ParserConfiguration();
return root.Parse(args, config).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
