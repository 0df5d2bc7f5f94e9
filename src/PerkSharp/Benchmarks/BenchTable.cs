using System.Globalization;
using CsvHelper;

namespace PerkSharp.Benchmarks;

/// <summary>
/// A named table of measurements: written as CSV (CsvHelper, RFC 4180, invariant culture) and as a markdown table,
/// so the CSV files and the summary always show the same columns.
/// </summary>
public sealed class BenchTable
{
    readonly List<object?[]> _rows = new();

    public BenchTable(string name, params string[] columns) { Name = name; Columns = columns; }

    /// <summary>File stem of the CSV (e.g. "meta_step" -> meta_step.csv).</summary>
    public string Name { get; }
    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<object?[]> Rows => _rows;

    public void Add(params object?[] values)
    {
        if (values.Length != Columns.Count)
            throw new ArgumentException($"table {Name}: {values.Length} values for {Columns.Count} columns");
        _rows.Add(values);
    }

    /// <summary>Value of a column in a row (by column name).</summary>
    public object? Get(object?[] row, string column)
    {
        int i = Columns.ToList().IndexOf(column);
        if (i < 0) throw new ArgumentException($"table {Name}: no column {column}");
        return row[i];
    }

    public double Num(object?[] row, string column) => Get(row, column) switch
    {
        null => double.NaN,
        double d => d,
        float f => f,
        int i => i,
        long l => l,
        _ => double.NaN,
    };

    public static string Format(object? v) => v switch
    {
        null => "",
        double d when double.IsNaN(d) => "",
        double d => Math.Abs(d) >= 1e5 || (Math.Abs(d) < 1e-3 && d != 0) ? d.ToString("0.###e0", CultureInfo.InvariantCulture)
                                                                          : d.ToString("0.####", CultureInfo.InvariantCulture),
        float f => Format((double)f),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    public void WriteCsv(string path)
    {
        IO.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
            foreach (var c in Columns) csv.WriteField(c);
            csv.NextRecord();
            foreach (var row in _rows)
            {
                foreach (var v in row) csv.WriteField(Format(v));
                csv.NextRecord();
            }
            csv.Flush();
        });
    }

    public string ToMarkdown()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", Columns) + " |");
        sb.AppendLine("|" + string.Concat(Columns.Select(_ => "---|")));
        foreach (var row in _rows) sb.AppendLine("| " + string.Join(" | ", row.Select(v => Format(v).Replace("|", "\\|"))) + " |");
        return sb.ToString();
    }
}
