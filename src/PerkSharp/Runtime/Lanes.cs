using System.Runtime.ExceptionServices;
using TorchSharp;

namespace PerkSharp.Runtime;

/// <summary>
/// Runs independent jobs side by side on their own threads, each with its own libtorch intra-op thread budget.
/// Why: the embedded default's ops are small (2 layers x 64 wide), and one libtorch thread is as fast as two on them
/// (OpenMP fork/join per op costs as much as it saves); two jobs on one thread each use both cores for real.
/// Jobs must share no mutable tensors: each lane gets its own model copy and meta-parameters. TorchSharp's dispose
/// scopes and libtorch's grad mode are per thread, so each lane's scopes are its own.
/// </summary>
public static class Lanes
{
    /// <summary>Lanes to use on this machine: one per core, at most <paramref name="max"/>.</summary>
    public static int Auto(int max = 2) => Math.Clamp(Environment.ProcessorCount, 1, max);

    /// <summary>
    /// Runs every job concurrently (one thread each, <paramref name="threadsPerLane"/> libtorch threads each) and waits
    /// for all; the first failure is rethrown once all have stopped. One job, or <paramref name="concurrent"/> false,
    /// runs on the calling thread with the process's thread setting unchanged (one after another).
    /// </summary>
    public static void Run(IReadOnlyList<Action> jobs, int threadsPerLane = 1, bool concurrent = true)
    {
        if (jobs.Count <= 1 || !concurrent) { foreach (var job in jobs) job(); return; }
        int before = torch.get_num_threads();
        var errors = new ExceptionDispatchInfo?[jobs.Count];
        var threads = jobs.Select((job, i) => new Thread(() =>
        {
            try
            {
                torch.set_num_threads(threadsPerLane);          // libtorch also reads this per thread on first use
                job();
            }
            catch (Exception e) { errors[i] = ExceptionDispatchInfo.Capture(e); }
        }, maxStackSize: 64 << 20) { IsBackground = true, Name = $"perk-lane-{i}" }).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        torch.set_num_threads(before);
        errors.FirstOrDefault(e => e != null)?.Throw();
    }

    /// <summary>
    /// Splits items over <paramref name="lanes"/> lanes, longest first onto the least loaded lane (LPT), so the lanes
    /// finish close together. Returns, per lane, the item indices in their original order.
    /// </summary>
    public static List<List<int>> Split(IReadOnlyList<double> costs, int lanes)
    {
        var load = new double[lanes];
        var byLane = Enumerable.Range(0, lanes).Select(_ => new List<int>()).ToList();
        foreach (int i in Enumerable.Range(0, costs.Count).OrderByDescending(i => costs[i]).ThenBy(i => i))
        {
            int lane = Array.IndexOf(load, load.Min());
            byLane[lane].Add(i);
            load[lane] += costs[i];
        }
        foreach (var l in byLane) l.Sort();
        return byLane;
    }
}
