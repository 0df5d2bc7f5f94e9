using PerkSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Training;

/// <summary>Lanes: independent jobs side by side, one libtorch thread each, failures surfaced.</summary>
[Collection(SerialCollection.Name)]
public class LanesTests
{
    public LanesTests() => TorchRuntime.Initialize(2);

    [Fact]
    public void Split_balances_costs_longest_first_and_keeps_each_lanes_items_in_order()
    {
        // Cells of 8, 16 and 32 segments (1k, 2k, 4k): 4k alone on one lane, 1k+2k on the other.
        var lanes = Lanes.Split(new double[] { 8, 16, 32 }, 2);
        Assert.Equal(new[] { 2 }, lanes[0]);
        Assert.Equal(new[] { 0, 1 }, lanes[1]);
        var four = Lanes.Split(new double[] { 5, 1, 4, 2, 3, 3 }, 3);
        Assert.Equal(Enumerable.Range(0, 6), four.SelectMany(l => l).Order());
        Assert.All(four, l => Assert.Equal(6, l.Select(i => new double[] { 5, 1, 4, 2, 3, 3 }[i]).Sum()));
        Assert.All(four, l => Assert.Equal(l.Order(), l));
    }

    [Fact]
    public void Run_runs_jobs_concurrently_with_their_thread_budget_and_restores_the_process_setting()
    {
        int before = torch.get_num_threads();
        var seen = new int[2];
        using var bothStarted = new CountdownEvent(2);
        var jobs = Enumerable.Range(0, 2).Select(i => (Action)(() =>
        {
            seen[i] = torch.get_num_threads();
            bothStarted.Signal();
            Assert.True(bothStarted.Wait(TimeSpan.FromSeconds(20)), "the other lane never started: lanes ran one after another");
            using var scope = NewDisposeScope();
            var x = randn(64, 64);
            Assert.Equal(64, x.matmul(x).shape[0]);
        })).ToList();
        Lanes.Run(jobs, threadsPerLane: 1);
        Assert.Equal(new[] { 1, 1 }, seen);
        Assert.Equal(before, torch.get_num_threads());
    }

    [Fact]
    public void Run_rethrows_a_lanes_failure_after_every_lane_has_stopped()
    {
        bool otherFinished = false;
        var e = Assert.Throws<PerkException>(() => Lanes.Run(new Action[]
        {
            () => throw new PerkException("lane 0 failed"),
            () => { Thread.Sleep(300); otherFinished = true; },
        }));
        Assert.Equal("lane 0 failed", e.Message);
        Assert.True(otherFinished);
    }
}
