using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using PerkSharp.Adapters;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// Hidden `perk bench-meta`: meta-step wall time and RSS on a random model (tiny or GPT-2-small-shaped) with random
/// token segments (memory flat over many steps, cost of one meta-step).
/// </summary>
public sealed class BenchMetaCommand : ICliCommand
{
    public Command Build()
    {
        var shape = new Option<string>("--shape") { Description = "tiny | gpt2-small", DefaultValueFactory = _ => "tiny" };
        var steps = new Option<int>("--steps") { Description = "Meta-steps to run", DefaultValueFactory = _ => 10 };
        var context = new Option<int>("--context-tokens") { Description = "Context tokens in total", DefaultValueFactory = _ => 1024 };
        var segments = new Option<int>("--segments") { Description = "Number of segments", DefaultValueFactory = _ => 4 };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 16 };
        var inner = new Option<int>("--inner-steps") { DefaultValueFactory = _ => 4 };
        var unroll = new Option<int>("--unroll-start") { DefaultValueFactory = _ => 2 };
        var report = new Option<string>("--report-at") { Description = "Comma-separated step counts at which to print RSS", DefaultValueFactory = _ => "" };
        var cmd = new Command("bench-meta", "Benchmark PERK meta-steps (wall time, RSS) on a random model") { shape, steps, context, segments, rank, inner, unroll, report };
        cmd.Hidden = true;
        cmd.SetHandler(parse =>
        {
            var cfg = parse.GetValue(shape) == "gpt2-small"
                ? ModelConfig.FromJson(new JsonObject { ["model_type"] = "gpt2", ["vocab_size"] = 50257, ["n_embd"] = 768, ["n_layer"] = 12, ["n_head"] = 12, ["n_positions"] = 1024, ["eos_token_id"] = 50256 })
                : ModelConfig.FromJson(new JsonObject { ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 256, ["eos_token_id"] = 256 });
            var model = ModelFactory.Create(cfg, ScalarType.Float32, 1);
            var settings = new PerkSettings
            {
                Lora = new LoraOptions { Rank = parse.GetValue(rank), Alpha = parse.GetValue(rank) },
                InnerSteps = parse.GetValue(inner), UnrollStart = parse.GetValue(unroll), Mode = InnerLoopMode.Truncated,
            };
            var meta = new MetaParameters(model, settings, ScalarType.Float32, 1);
            int n = parse.GetValue(segments), perSeg = Math.Min(parse.GetValue(context) / n, cfg.MaxPositionEmbeddings);
            var rng = new Random(1);
            int[] Ids(int len) => Enumerable.Range(0, len).Select(_ => rng.Next(cfg.VocabSize - 1)).ToArray();
            var seqs = Enumerable.Range(0, n).Select(_ => new TokenizedSequence(Ids(perSeg), 3)).ToList();
            using var ctxBatch = PerkBatcher.Separate(seqs, cfg.VocabSize - 1);
            using var q = PerkBatcher.Separate(new[] { new TokenizedSequence(Ids(32), 24) }, cfg.VocabSize - 1);
            int total = parse.GetValue(steps);
            var at = parse.GetValue(report)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet();
            using var learner = new MetaLearner(model, meta, total, 0);
            var times = new List<double>();
            Console.WriteLine($"bench-meta: {parse.GetValue(shape)}, {n}x{perSeg} context tokens, r={settings.Lora.Rank}, N={settings.InnerSteps}, T={settings.InnerSteps - settings.UnrollStart}, RSS at start {Rss("VmRSS"):F0} MB");
            for (int i = 1; i <= total; i++)
            {
                var sw = Stopwatch.StartNew();
                // CPU and kernel (system) seconds too: on a shared machine they are steadier than wall time, and the
                // kernel share is mostly the zeroing of freshly mapped pages.
                var proc = Process.GetCurrentProcess();
                double cpu0 = proc.TotalProcessorTime.TotalSeconds, sys0 = proc.PrivilegedProcessorTime.TotalSeconds;
                var r = learner.Step(new[] { ctxBatch }, q);
                times.Add(sw.Elapsed.TotalSeconds);
                proc.Refresh();
                if (at.Contains(i) || i == total || total <= 10)
                    Console.WriteLine($"step {i}: {times[^1]:F3} s, CPU {proc.TotalProcessorTime.TotalSeconds - cpu0:F2} s " +
                                      $"(kernel {proc.PrivilegedProcessorTime.TotalSeconds - sys0:F2} s), outer loss {r.OuterLoss:F4}, " +
                                      $"RSS {Rss("VmRSS"):F0} MB, peak RSS {Rss("VmHWM"):F0} MB");
            }
            var steady = times.Skip(Math.Min(1, times.Count - 1)).ToList();
            Console.WriteLine($"bench-meta: mean meta-step {steady.Average():F3} s (excluding the first), peak RSS {Rss("VmHWM"):F0} MB");
            return 0;
        });
        return cmd;
    }

    /// <summary>A /proc/self/status memory field in MB (VmRSS: current, VmHWM: peak).</summary>
    static double Rss(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":"))
                return double.Parse(line.Split(':')[1].Trim().Split(' ')[0]) / 1024.0;
        return double.NaN;
    }
}
