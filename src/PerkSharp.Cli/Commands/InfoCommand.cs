using System.CommandLine;
using TorchSharp;

namespace PerkSharp.Cli.Commands;

/// <summary>`perk info`: versions, threads and whether libtorch loads (a quick health check of an install).</summary>
public sealed class InfoCommand : ICliCommand
{
    public Command Build()
    {
        var cmd = new Command("info", "Show versions, thread count and check that libtorch loads");
        cmd.SetHandler(_ =>
        {
            using var x = torch.ones(2, 2);
            Console.WriteLine($"PerkSharp {typeof(InfoCommand).Assembly.GetName().Version}");
            Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch threads {torch.get_num_threads()}");
            Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
            Console.WriteLine($"libtorch check: ones(2,2).sum() = {x.sum().item<float>()}");
            return 0;
        });
        return cmd;
    }
}
