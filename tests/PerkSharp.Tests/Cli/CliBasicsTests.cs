namespace PerkSharp.Tests.Cli;

public class CliBasicsTests
{
    [Fact]
    public void HelpListsCommandsAndExitsZero()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("info", r.Stdout);
        Assert.Contains("--threads", r.Stdout);
    }

    [Fact]
    public void UnknownCommandIsOneLineErrorWithNonZeroExit()
    {
        var r = CliRunner.Run("no-such-command");
        Assert.NotEqual(0, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains("no-such-command", lines[0]);
    }

    [Fact]
    public void BadOptionValueIsOneLineError()
    {
        var r = CliRunner.Run("info", "--threads", "many");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ThreadsOptionReachesLibtorch()
    {
        var r = CliRunner.Run("info", "--threads", "1");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("libtorch threads 1", r.Stdout);
    }
}
