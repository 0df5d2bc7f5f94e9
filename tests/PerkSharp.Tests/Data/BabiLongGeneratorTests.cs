using System.Text.RegularExpressions;
using PerkSharp.Data;

namespace PerkSharp.Tests.Data;

/// <summary>PERK's BabiLong variant: budgets, segments, annotation, placement, determinism, split hygiene.</summary>
public class BabiLongGeneratorTests
{
    static readonly Regex Prefix = new(@"\b(Mary|John|Daniel|Sandra) Event \d+: ");

    static int PlainTokens(PerkExample e) =>
        // Budget = haystack + plain facts: count every segment with the "{A} Event {k}: " prefixes removed.
        e.Context.Sum(s => Gpt2Tokens.Count(Prefix.Replace(s, "")));

    static string StripFacts(string s) => Regex.Replace(s, @"\b\w+ Event \d+: [^.]*\.\s?", "");

    [Theory]
    [InlineData(1, "1k")]
    [InlineData(2, "1k")]
    [InlineData(3, "2k")]
    [InlineData(2, "8k")]
    [InlineData(1, "32k")]
    public void Context_meets_the_token_budget_within_two_percent(int task, string length)
    {
        var corpus = HaystackCorpus.Embedded("test");
        int budget = LengthBudget.Tokens(length);
        for (int i = 0; i < 5; i++)
        {
            var ex = BabiLongGenerator.Generate(new BabiLongOptions(task, length, "test"), corpus, i).Example;
            int tokens = PlainTokens(ex);
            Assert.InRange(tokens, budget * 0.98, budget * 1.02);
            Assert.InRange(ex.Context.Count, 1, budget / 256);
            // ~256-token segments: the haystack part of every segment but the last holds about 256 tokens.
            Assert.All(ex.Context.SkipLast(1), s => Assert.InRange(Gpt2Tokens.Count(StripFacts(s)), 240, 272));
        }
    }

    [Fact]
    public void BabiLong_rule_budget_is_N_times_1000_minus_300()
    {
        Assert.Equal(7700, LengthBudget.Tokens("8k", BudgetRule.Babilong));
        Assert.Equal(8192, LengthBudget.Tokens("8k"));
        var ex = BabiLongGenerator.Generate(new BabiLongOptions(1, "4k", "test", Rule: BudgetRule.Babilong), HaystackCorpus.Embedded("test"), 3).Example;
        Assert.InRange(PlainTokens(ex), 3700 * 0.98, 3700 * 1.02);
    }

    [Theory]
    [InlineData("shuffled")]
    [InlineData("blocked")]
    public void Every_annotated_fact_appears_once_and_support_answers_the_question(string placement)
    {
        var corpus = HaystackCorpus.Embedded("validation");
        for (int i = 0; i < 10; i++)
        {
            var g = BabiLongGenerator.Generate(new BabiLongOptions(3, "1k", "validation", Placement: placement), corpus, i);
            var ex = g.Example;
            string all = string.Join(" ", ex.Context);
            var facts = Prefix.Matches(all).Select(m => m.Index).Select(ix => all[ix..(all.IndexOf('.', ix) + 1)]).ToList();
            Assert.Equal(g.Meta["nFacts"]!.GetValue<int>(), facts.Count);
            Assert.Equal(facts.Count, facts.Distinct().Count());
            Assert.All(ex.Support!, s => Assert.Contains(s, facts));
            Assert.Equal(3, ex.Support!.Count);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Facts_recovered_from_the_text_answer_the_question(int task)
    {
        // Independent consistency check on the written text only: all supporting facts of qa1-3 have one subject;
        // that agent's facts, ordered by their "Event k" counter, replayed by a separate solver give the answer.
        var corpus = HaystackCorpus.Embedded("test");
        for (int i = 0; i < 30; i++)
        {
            var ex = BabiLongGenerator.Generate(new BabiLongOptions(task, "1k", "test"), corpus, i).Example;
            string all = string.Join(" ", ex.Context);
            var facts = Regex.Matches(all, @"(\w+) Event (\d+): ([^.]*\.)")
                .Select(m => (Agent: m.Groups[1].Value, K: int.Parse(m.Groups[2].Value), Text: m.Groups[3].Value)).ToList();
            string agent = ex.Support!.Select(s => s[..s.IndexOf(' ')]).Distinct().Single();
            var mine = facts.Where(f => f.Agent == agent).OrderBy(f => f.K).ToList();
            Assert.Equal(Enumerable.Range(0, mine.Count), mine.Select(f => f.K));     // counters are 0..n-1 per agent
            Assert.Equal(ex.Answer, BabiSolver.Answer(task, mine.Select(f => f.Text).ToList(), ex.Question));
        }
    }

    [Fact]
    public void Zero_k_has_facts_only_in_segments_of_at_most_256_tokens()
    {
        var ex = BabiLongGenerator.Generate(new BabiLongOptions(3, "0k", "test"), HaystackCorpus.Embedded("test"), 0).Example;
        string all = string.Join(" ", ex.Context);
        Assert.Equal("", Prefix.Replace(Regex.Replace(all, @"\b\w+ Event \d+: [^.]*\.", ""), "").Trim());
        Assert.All(ex.Context, s => Assert.True(Gpt2Tokens.Count(s) <= 260));
    }

    [Fact]
    public void Same_seed_gives_identical_examples_and_adding_samples_changes_none()
    {
        var corpus = HaystackCorpus.Embedded("test");
        var o = new BabiLongOptions(2, "1k", "test", Seed: 7);
        string Line(long i) { var g = BabiLongGenerator.Generate(o, corpus, i); return OfficialWriter.BabilongLine(g.Example, g.Meta); }
        var first = Enumerable.Range(0, 4).Select(i => Line(i)).ToList();
        Assert.Equal(first[3], Line(3));                                   // one sample regenerated alone
        Assert.Equal(first, Enumerable.Range(0, 6).Select(i => Line(i)).Take(4).ToList());
        Assert.Equal(4, first.Distinct().Count());
        var other = BabiLongGenerator.Generate(o with { Seed = 8 }, corpus, 0);
        Assert.NotEqual(first[0], OfficialWriter.BabilongLine(other.Example, other.Meta));
    }

    [Fact]
    public void Splits_share_no_haystack_book_and_no_sentence()
    {
        var books = new[] { "train", "validation", "test" }.ToDictionary(s => s, s => HaystackCorpus.Embedded(s).Books.Select(b => b.Name).ToList());
        Assert.Equal(new[] { "emma", "mansfieldpark", "prideprejudice", "sensesensibility" }, books["train"]);
        Assert.Equal(new[] { "northangerabbey" }, books["validation"]);
        Assert.Equal(new[] { "persuasion" }, books["test"]);
        // Generated test text is Persuasion's: its sentences are not found in the train or validation books.
        var others = new[] { "train", "validation" }.SelectMany(s => HaystackCorpus.Embedded(s).Books).SelectMany(b => b.Sentences)
            .Where(s => s.Length > 60).ToHashSet();
        var test = BabiLongGenerator.Generate(new BabiLongOptions(1, "2k", "test"), HaystackCorpus.Embedded("test"), 0).Example;
        var persuasion = HaystackCorpus.Embedded("test").Books[0].Sentences.ToHashSet();
        var sentences = test.Context.SelectMany(SentenceSplitter.Split).Where(s => s.Length > 60 && !Prefix.IsMatch(s)).ToList();
        Assert.NotEmpty(sentences);
        Assert.DoesNotContain(sentences, others.Contains);
        Assert.Contains(sentences, persuasion.Contains);
    }

    [Fact]
    public void A_user_haystack_folder_replaces_the_built_in_corpus()
    {
        string dir = DataPaths.TempDir();
        File.WriteAllText(Path.Combine(dir, "book.txt"),
            string.Join("\n\n", Enumerable.Range(0, 400).Select(i => $"The lighthouse keeper number {i} counted the passing ships with great care every evening.")));
        var corpus = HaystackCorpus.FromDirectory(dir, "test");
        var ex = BabiLongGenerator.Generate(new BabiLongOptions(1, "1k", "test"), corpus, 0).Example;
        Assert.Contains("lighthouse keeper", ex.Context[0]);
        Assert.Throws<PerkSharp.Runtime.PerkException>(() => HaystackCorpus.FromDirectory(Path.Combine(dir, "missing"), "test"));
    }

    [Fact]
    public void Sentence_splitter_keeps_abbreviations_and_initials()
    {
        var s = SentenceSplitter.Split("Mr. Elliot met Dr. Shirley at St. Ives. \"Is it so?\" said J. Smith; she agreed! Then they left.");
        Assert.Equal(new[] { "Mr. Elliot met Dr. Shirley at St. Ives.", "\"Is it so?\" said J. Smith; she agreed!", "Then they left." }, s);
    }
}
