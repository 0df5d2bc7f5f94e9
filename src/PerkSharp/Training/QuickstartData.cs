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
    /// sentences in total, in runs of 8), every training example rendered as PERK sees it (its segments, and its
    /// question with the answer target), then the options' in-context drills (<see cref="Drills"/>, <see cref="LongDrills"/>).
    /// </summary>
    /// <remarks>The long drills (<see cref="PretrainOptions.LongDrills"/>) come last: the pretrainer starts its full-length windows at them.</remarks>
    public static List<string> PretrainCorpus(IReadOnlyList<PerkExample> train, int proseSentences, IReadOnlyList<int>? tasks,
                                              PretrainOptions o, ulong seed = PerkRandom.DefaultSeed)
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
        tasks ??= new[] { 1 };
        if (o.Drills > 0) docs.AddRange(Drills(tasks, o.Drills, seed));
        if (o.LongDrills > 0) docs.AddRange(LongDrills(tasks, o.LongDrills, o.LongDrillLength, o.DrillSegmentTokens, seed));
        return docs;
    }

    /// <summary>
    /// In-context drills at a BabiLong length (<see cref="Generate"/> from the "drill" seed stream), rendered as the
    /// in-context prompt followed by the tagged answer. The short drills teach the format; these teach finding the
    /// facts in the haystack, which the tiny base never learned from short windows of the training examples.
    /// </summary>
    public static IEnumerable<string> LongDrills(IReadOnlyList<int> tasks, int count, string length, int segmentTokens, ulong seed) =>
        Generate(tasks, new[] { length }, count, segmentTokens, seed, "drill").Select(d => d.Text);

    /// <summary>Held-out reading drills the pretrainer scores, by default.</summary>
    public const int ProbeDrills = 100;

    /// <summary>
    /// The supervised reading drills of <paramref name="o"/> (<see cref="PretrainOptions.ReadingDrills"/>, seed stream
    /// "reading") and <paramref name="probe"/> held-out ones (stream "probe") that the pretrainer scores as it goes.
    /// </summary>
    public static (List<InContextDrill> Train, List<InContextDrill> Probe) Reading(IReadOnlyList<int> tasks, PretrainOptions o, int probe, ulong seed)
    {
        var lengths = o.ReadingLengths.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (Generate(tasks, lengths, o.ReadingDrills, o.DrillSegmentTokens, seed, "reading").ToList(),
                Generate(tasks, lengths, probe, o.DrillSegmentTokens, seed, "probe").ToList());
    }

    /// <summary>
    /// BabiLong examples generated like the training split (training books' haystack, the generator's placement and
    /// segmenting) but from their own seed stream, so never validation or test stories; tasks alternate, and lengths
    /// take turns after each round of tasks.
    /// </summary>
    public static IEnumerable<InContextDrill> Generate(IReadOnlyList<int> tasks, IReadOnlyList<string> lengths, int count, int segmentTokens, ulong seed, string stream)
    {
        var corpus = HaystackCorpus.Embedded("train");
        for (int i = 0; i < count; i++)
        {
            int task = tasks[i % tasks.Count];
            string length = lengths[(i / tasks.Count) % lengths.Count];
            ulong s = PerkRandom.SampleSeed(seed, stream, length, "train", 0);
            var ex = BabiLongGenerator.Generate(new BabiLongOptions(task, length, "train", s, SegmentTokens: segmentTokens), corpus, i).Example;
            yield return new InContextDrill(ex.Context, ex.Question, PerkFormat.Target(ex.Answer, ex.Support), length);
        }
    }

    /// <summary>
    /// In-context drills: short haystack-free bAbI stories (Event-annotated and shuffled as in BabiLong, split over
    /// 1–3 docs) followed by the question and the tagged answer, in the in-context prompt format. Why: a few hundred QA
    /// lines in a stream of prose never taught the tiny base the reading skills every method here relies on — copy the
    /// asked agent, find its facts, copy the location into the output tag — and PERK cannot learn them in its few
    /// hundred meta-steps. Stories come from their own seed stream ("drill"), so they are never validation or test stories.
    /// </summary>
    public static IEnumerable<string> Drills(IReadOnlyList<int> tasks, int count, ulong seed)
    {
        for (int i = 0; i < count; i++)
        {
            int task = tasks[i % tasks.Count];
            var rng = PerkRandom.ForSample(seed, $"drill/qa{task}", "facts", "train", i);
            var sample = BabiGenerator.Sample(task, rng, maxFacts: 16);
            var annotated = sample.AnnotatedFacts();
            var facts = annotated.ToList();
            rng.Shuffle(facts);
            int docs = Math.Min(facts.Count, 1 + rng.Next(3));
            var segments = Enumerable.Range(0, docs).Select(d => string.Join(" ", facts.Where((_, j) => j % docs == d))).ToList();
            var support = sample.Support.Select(s => annotated[s]).ToList();
            yield return Evaluation.InContextMethod.PromptText(segments, Enumerable.Range(0, docs).ToArray(), sample.Question)
                         + PerkFormat.AnswerCompletion(sample.Answer, support, "");
        }
    }
}

/// <summary>An in-context example for supervised pretraining: the context segments, the question and the answer target.</summary>
public sealed record InContextDrill(IReadOnlyList<string> Segments, string Question, string Target, string Length = "")
{
    /// <summary>As the in-context methods show it: the prompt, a space and the target.</summary>
    public string Text => Evaluation.InContextMethod.PromptText(Segments, PerkFormat.DocIds(Segments.Count, null), Question) + " " + Target;

    /// <summary>Ids and prompt length exactly as the in-context methods encode it (context cut from the left to fit).</summary>
    public (int[] Ids, int PromptLength) Encode(Tokenization.ITokenizer tok, int positions) =>
        Evaluation.InContextMethod.Encode(tok, positions, Segments, PerkFormat.DocIds(Segments.Count, null), Question, Target, 0);
}
