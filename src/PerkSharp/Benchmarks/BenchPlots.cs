using ScottPlot;

namespace PerkSharp.Benchmarks;

/// <summary>One line of a plot.</summary>
public sealed record PlotSeries(string Name, double[] X, double[] Y, bool Dashed = false);

/// <summary>PNG line plots of the bench tables (ScottPlot 5). Log axes are drawn as log2 of the value, labelled so.</summary>
public static class BenchPlots
{
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series,
        bool log2X = false, bool log2Y = false)
    {
        var usable = series.Where(s => s.X.Length > 0).ToList();
        if (usable.Count == 0) return;
        var plt = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        foreach (var s in usable)
        {
            var pts = s.X.Zip(s.Y).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)
                                             && (!log2X || p.First > 0) && (!log2Y || p.Second > 0)).ToArray();
            if (pts.Length == 0) continue;
            double[] xs = pts.Select(p => log2X ? Math.Log2(p.First) : p.First).ToArray();
            double[] ys = pts.Select(p => log2Y ? Math.Log2(p.Second) : p.Second).ToArray();
            var sc = plt.Add.Scatter(xs, ys, palette.GetColor(i++));
            sc.LegendText = s.Name;
            sc.LineWidth = 2;
            sc.MarkerSize = 6;
            if (s.Dashed) sc.LinePattern = LinePattern.Dashed;
        }
        plt.Title(title);
        plt.XLabel(log2X ? $"log2({xLabel})" : xLabel);
        plt.YLabel(log2Y ? $"log2({yLabel})" : yLabel);
        plt.ShowLegend(Alignment.UpperLeft);
        byte[] png = plt.GetImageBytes(900, 540, ImageFormat.Png);
        IO.AtomicFile.WriteAllBytes(path, png);
    }
}
