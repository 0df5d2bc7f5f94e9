using PerkSharp.Data;

namespace PerkSharp.Training;

/// <summary>
/// The quickstart's data: BabiLong splits generated with the data generators into the official layout
/// (<c>{root}/babilong/qa{t}_{len}/{split}.jsonl</c>) and read back with the official reader, plus the text the tiny
/// base model is pretrained on — haystack prose of the training books and the training split's own text (segments,
/// questions and targets). Validation and test text never enter pretraining.
/// </summary>
public static class QuickstartData
{
    /// <summary>Generates (or reuses, when the file has the right number of lines) one subset split.</summary>
    public static List<PerkExample> Ensure(string root, int task, string length, string split, int count, int segmentTokens, ulong seed)
    {
        string subset = $"qa{task}_{length}";
        string path = OfficialReader.PathOf(root, "babilong", subset, split);
        if (!File.Exists(path) || File.ReadLines(path).Count() != count)
        {
            var opts = new BabiLongOptions(task, length, split, seed, SegmentTokens: segmentTokens);
            var corpus = HaystackCorpus.Embedded(split);
            var lines = new List<string>(count);
            for (int i = 0; i < count; i++)
            {
                var g = BabiLongGenerator.Generate(opts, corpus, i);
                lines.Add(OfficialWriter.BabilongLine(g.Example, g.Meta));
            }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            IO.AtomicFile.WriteAllText(path, string.Join("\n", lines) + "\n");
        }
        return OfficialReader.Read(root, "babilong", subset, split);
    }

    /// <summary>
    /// Pretraining documents: paragraphs of the training books' haystack prose (about <paramref name="proseSentences"/>
    /// sentences in total, in runs of 8), then every training example rendered as PERK sees it: its segments and its
    /// question with the answer target.
    /// </summary>
    public static List<string> PretrainCorpus(IReadOnlyList<PerkExample> train, int proseSentences)
    {
        var docs = new List<string>();
        var corpus = HaystackCorpus.Embedded("train");
        int taken = 0;
        foreach (var book in corpus.Books)
            for (int i = 0; i + 8 <= book.Sentences.Count && taken < proseSentences; i += 8, taken += 8)
                docs.Add(string.Join(" ", book.Sentences.Skip(i).Take(8)));
        foreach (var ex in train)
        {
            var ids = PerkFormat.DocIds(ex.Context.Count, null);
            for (int i = 0; i < ex.Context.Count; i++)
                docs.Add(PerkFormat.SegmentPrompt(ids[i]) + PerkFormat.SegmentCompletion(ex.Context[i], ""));
            docs.Add(PerkFormat.QuestionPrompt(ex.Context.Count, ex.Question) + PerkFormat.AnswerCompletion(ex.Answer, ex.Support, ""));
        }
        return docs;
    }
}
