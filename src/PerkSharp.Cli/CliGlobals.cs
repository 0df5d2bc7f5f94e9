using System.CommandLine;
using System.Reflection;
using PerkSharp.Runtime;

namespace PerkSharp.Cli;

/// <summary>A `perk` subcommand. Implementations are discovered by reflection (one file per command).</summary>
public interface ICliCommand
{
    Command Build();
}

/// <summary>Global options and the uniform error/exit-code policy of every command.</summary>
public static class CliGlobals
{
    public static readonly Option<int> Threads = new("--threads")
    {
        Description = "CPU threads for libtorch (default: all cores)",
        DefaultValueFactory = _ => 0,
        Recursive = true,
    };

    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Print stack traces on errors",
        Recursive = true,
    };

    /// <summary>Largest --threads accepted: 4x oversubscription, at least 8.</summary>
    public static int MaxThreads => Math.Max(8, 4 * Environment.ProcessorCount);

    /// <summary>Exit code of user errors (bad input); 1 is kept for internal failures.</summary>
    public const int UserError = 2;

    public static IEnumerable<Command> DiscoverCommands() =>
        typeof(CliGlobals).Assembly.GetTypes()
            .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => ((ICliCommand)Activator.CreateInstance(t)!).Build())
            .OrderBy(c => c.Name, StringComparer.Ordinal);

    /// <summary>
    /// Wraps a command body: initialises libtorch (when <paramref name="needsTorch"/>), maps errors to one line on
    /// stderr and a non-zero exit code; stack traces only with --verbose.
    /// </summary>
    public static void SetHandler(this Command command, Func<ParseResult, int> body, bool needsTorch = true)
    {
        command.SetAction(parse =>
        {
            bool verbose = parse.GetValue(Verbose);
            try
            {
                int threads = parse.GetValue(Threads);
                // libtorch starts one OpenMP thread per requested thread: --threads 100000 hangs the process.
                if (threads < 0 || threads > MaxThreads)
                    throw new PerkException($"--threads {threads}: expected 0 (all cores) to {MaxThreads} (this machine has {Environment.ProcessorCount} cores)");
                if (needsTorch) TorchRuntime.Initialize(threads);
                return body(parse);
            }
            catch (Exception e) when (Unwrap(e) is PerkException pe)
            {
                Console.Error.WriteLine("error: " + OneLine(pe.Message));
                if (verbose) Console.Error.WriteLine(e);
                return UserError;
            }
            catch (Exception e) when (Unwrap(e) is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine("error: " + OneLine(Unwrap(e).Message));
                if (verbose) Console.Error.WriteLine(e);
                return UserError;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("error: cancelled");
                return 130;
            }
            catch (Exception e)
            {
                var inner = Unwrap(e);
                Console.Error.WriteLine($"error: internal failure ({inner.GetType().Name}): {OneLine(inner.Message)}" +
                                        (verbose ? "" : " (run with --verbose for details)"));
                if (verbose) Console.Error.WriteLine(e);
                return 1;
            }
        });
    }

    static Exception Unwrap(Exception e) =>
        e is TargetInvocationException or TypeInitializationException or AggregateException && e.InnerException != null
            ? Unwrap(e.InnerException!) : e;

    static string OneLine(string s) => s.Replace("\r", " ").Replace("\n", " ").Trim();
}
