using System.IO.Compression;
using System.Text;
using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>
/// Background prose for BABILong-style contexts (docs/DATA.md): books split into sentences, each sentence
/// tokenised once (lazily, as " " + sentence, GPT-2) and cached. The built-in corpus is the Austen novels embedded
/// in this assembly, split by book (train: Emma, Mansfield Park, Pride and Prejudice, Sense and Sensibility;
/// validation: Northanger Abbey; test: Persuasion). A user folder of .txt files can replace it.
/// </summary>
public sealed class HaystackCorpus
{
    /// <summary>Haystack sentences shorter than this many GPT-2 tokens are skipped (BABILong).</summary>
    public const int MinSentenceTokens = 10;

    /// <summary>One book: its name and sentences in reading order.</summary>
    public sealed record Book(string Name, IReadOnlyList<string> Sentences);

    readonly int[]?[][] _tokens;

    public HaystackCorpus(string source, IReadOnlyList<Book> books)
    {
        if (books.Count == 0 || books.All(b => b.Sentences.Count == 0))
            throw new PerkException($"haystack {source}: no text found");
        Source = source;
        Books = books;
        _tokens = books.Select(b => new int[]?[b.Sentences.Count]).ToArray();
    }

    /// <summary>Where the text came from (recorded in each sample's meta).</summary>
    public string Source { get; }

    public IReadOnlyList<Book> Books { get; }

    static readonly Dictionary<string, HaystackCorpus> EmbeddedCache = new();

    /// <summary>The built-in Austen corpus of one split (train, validation or test).</summary>
    public static HaystackCorpus Embedded(string split)
    {
        lock (EmbeddedCache)
        {
            if (EmbeddedCache.TryGetValue(split, out var c)) return c;
            var asm = typeof(HaystackCorpus).Assembly;
            string prefix = $"PerkSharp.Haystack.{split}/";
            var books = asm.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)
                .Select(n =>
                {
                    using var s = new GZipStream(asm.GetManifestResourceStream(n)!, CompressionMode.Decompress);
                    using var r = new StreamReader(s, new UTF8Encoding(false, true));
                    return ParseBook(n[prefix.Length..].Replace(".txt.gz", ""), r.ReadToEnd());
                }).ToList();
            if (books.Count == 0) throw new PerkException($"no built-in haystack for split '{split}' (expected train, validation or test)");
            return EmbeddedCache[split] = new HaystackCorpus($"janeaustenr:{split}:{string.Join("+", books.Select(b => b.Name))}", books);
        }
    }

    /// <summary>
    /// A folder of .txt files. If it has train/validation/test subfolders, the split's subfolder is used (split
    /// hygiene); otherwise every split reads all files (no separation: say so in reports).
    /// </summary>
    public static HaystackCorpus FromDirectory(string dir, string split)
    {
        if (!Directory.Exists(dir)) throw new PerkException($"haystack folder {dir} does not exist (expected a folder of .txt files)");
        string sub = Path.Combine(dir, split);
        string root = Directory.Exists(sub) ? sub : dir;
        var files = Directory.GetFiles(root, "*.txt").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new PerkException($"haystack folder {root} has no .txt files");
        var books = files.Select(f =>
        {
            try { return ParseBook(Path.GetFileNameWithoutExtension(f), File.ReadAllText(f, new UTF8Encoding(false, true))); }
            catch (DecoderFallbackException) { throw new PerkException($"{f}: invalid UTF-8 (haystack files must be UTF-8 text)"); }
        }).ToList();
        return new HaystackCorpus($"{Path.GetFullPath(root)}:{string.Join("+", books.Select(b => b.Name))}", books);
    }

    /// <summary>Paragraphs are separated by blank lines; lines inside a paragraph are joined with a space.</summary>
    public static Book ParseBook(string name, string text)
    {
        var sentences = new List<string>();
        var para = new StringBuilder();
        void Flush()
        {
            if (para.Length > 0) sentences.AddRange(SentenceSplitter.Split(para.ToString()));
            para.Clear();
        }
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0) { Flush(); continue; }
            if (para.Length > 0) para.Append(' ');
            para.Append(line);
        }
        Flush();
        return new Book(name, sentences);
    }

    /// <summary>GPT-2 ids of " " + sentence (cached).</summary>
    public int[] SentenceTokens(int book, int sentence) =>
        _tokens[book][sentence] ??= Gpt2Tokens.Encode(" " + Books[book].Sentences[sentence]).ToArray();

    /// <summary>
    /// BABILong's background sampler on this corpus: a random book and sentence offset, then
    /// consecutive sentences (continuing into the next book at a book's end) of at least
    /// <see cref="MinSentenceTokens"/> tokens that <paramref name="exclude"/> does not reject, until exactly
    /// <paramref name="budget"/> tokens; the last sentence is truncated to fit.
    /// </summary>
    public List<int> Sample(PerkRandom rng, int budget, Func<string, bool>? exclude = null)
    {
        var ids = new List<int>(Math.Max(budget, 0));
        if (budget <= 0) return ids;
        int b = rng.Next(Books.Count);
        while (Books[b].Sentences.Count == 0) b = (b + 1) % Books.Count;
        int i = rng.Next(Books[b].Sentences.Count);
        long total = Books.Sum(x => (long)x.Sentences.Count), sinceLastTake = 0;
        while (ids.Count < budget)
        {
            var tok = SentenceTokens(b, i);
            if (tok.Length >= MinSentenceTokens && (exclude == null || !exclude(Books[b].Sentences[i])))
            {
                ids.AddRange(tok.Take(budget - ids.Count));
                sinceLastTake = 0;
            }
            else if (++sinceLastTake > total) throw new PerkException($"haystack {Source}: no usable sentence (all shorter than {MinSentenceTokens} tokens or excluded)");
            if (++i >= Books[b].Sentences.Count)
            {
                i = 0;
                do b = (b + 1) % Books.Count; while (Books[b].Sentences.Count == 0);
            }
        }
        return ids;
    }
}
