using System.CommandLine;
using System.Globalization;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk train` with a test config (do_train: false): it runs `perk eval --checkpoint RUN --data DATA` with the same
/// config and overrides, so both entry points evaluate with the same code and settings (<see cref="TestRun"/> says
/// which run and data).
/// </summary>
internal static class TrainTestRun
{
    public static int Evaluate(ParseResult parse, TestRun test, ConfigSource source, string? configPath, string[] overrides, bool force)
    {
        Console.WriteLine($"train: {source.Name} has do_train: false: evaluating instead of training; checkpoint {test.CheckpointDir} " +
                          $"(load_checkpoint: true, output_dir {test.RunDir}); data {test.Data} ({test.DataName}); results in {test.Out}");
        var args = new List<string> { "eval", "--checkpoint", test.RunDir, "--data", test.Data, "--out", test.Out,
                                      "--threads", parse.GetValue(CliGlobals.Threads).ToString(CultureInfo.InvariantCulture) };
        if (configPath != null) args.AddRange(new[] { "--config", configPath });
        if (force) args.Add("--force");
        if (parse.GetValue(CliGlobals.Verbose)) args.Add("--verbose");
        args.AddRange(overrides);                                              // experiment=NAME among them stays the config
        var root = new RootCommand { new EvalCommand().Build() };
        root.Options.Add(CliGlobals.Threads);
        root.Options.Add(CliGlobals.Verbose);
        return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
