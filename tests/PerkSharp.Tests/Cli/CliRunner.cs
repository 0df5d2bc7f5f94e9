using System.Diagnostics;

namespace PerkSharp.Tests.Cli;

/// <summary>
/// Runs the real `perk` CLI (perk.dll copied into the test output) as a child process, so tests see exactly what a
/// user sees — exit code, stdout, stderr — and a native abort cannot take the test host down.
/// </summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunIn(null, TimeSpan.FromMinutes(5), args);

    public static Result RunIn(string? workingDirectory, TimeSpan timeout, params string[] args) =>
        RunDll("perk.dll", workingDirectory, timeout, args);

    /// <summary>Runs another application of the test output folder (e.g. a sample: QuickAsk.dll) the same way.</summary>
    public static Result RunDll(string dll, string? workingDirectory, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit((int)timeout.TotalMilliseconds))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException(Path.GetFileNameWithoutExtension(dll) + " " + string.Join(' ', args) + " did not finish in " + timeout);
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
