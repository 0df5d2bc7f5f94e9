using PerkSharp.Data;
using PerkSharp.Evaluation;

namespace PerkSharp.Tests.Evaluation;

/// <summary>The official evaluation's quirks (perk/evaluate.py, docs/DATA.md).</summary>
public class PerkMetricsTests
{
    [Fact]
    public void Normalisation_removes_punctuation_before_articles()
    {
        Assert.Equal("dont", PerkMetrics.Normalize("Don't"));
        // "a.n" becomes "an" only after punctuation removal, then it is removed as an article.
        Assert.Equal("apple", PerkMetrics.Normalize("a.n Apple"));
        Assert.Equal("automodelfrompretrainedyitutechconvbertbase", PerkMetrics.Normalize("AutoModel.from_pretrained('YituTech/conv-bert-base')"));
        Assert.Equal("493", PerkMetrics.Normalize("49.3"));
        Assert.Equal("theater", PerkMetrics.Normalize("The  theater"));
    }

    [Fact]
    public void EM_compares_the_first_output_spans_case_insensitively()
    {
        string gold = PerkFormat.Target("hallway", new[] { "John Event 4: John travelled to the hallway." });
        Assert.Equal(1, PerkMetrics.ExactMatch("<support>wrong support</support>\n<output> The Hallway.</output><output>garden</output>", gold));
        Assert.Equal(0, PerkMetrics.ExactMatch("<support>x</support>\n<output>garden</output>", gold));
    }

    [Fact]
    public void EM_falls_back_to_whole_strings_when_a_tag_is_missing()
    {
        // Gold without tags (Student Records): a tagged prediction compares whole strings and fails.
        Assert.Equal(0, PerkMetrics.ExactMatch("<output>Yes</output>", "Yes"));
        Assert.Equal(1, PerkMetrics.ExactMatch("yes", "Yes"));
        // Tagged gold, untagged prediction: whole strings as well.
        Assert.Equal(0, PerkMetrics.ExactMatch("hallway", "<support>f</support>\n<output>hallway</output>"));
        Assert.Equal(1, PerkMetrics.ExactMatch("49.3", "49.3"));
        Assert.Equal(1, PerkMetrics.ExactMatch("493", "49.3"));                  // punctuation is gone
    }

    [Fact]
    public void F1_uses_token_sets_over_the_whole_strings()
    {
        // Sets: the common count uses distinct tokens, the lengths do not: P = 1/2, R = 1/1.
        Assert.Equal(2 * 0.5 * 1.0 / 1.5, PerkMetrics.F1("garden garden", "garden"), 10);
        string gold = "<support>Mary Event 0: Mary went to the garden.</support>\n<output>garden</output>";
        Assert.Equal(1.0, PerkMetrics.F1(gold, gold));
        // Tags glue to words once '<', '/' and '>' are gone: gold tokens = supportmary event 0 mary went to
        // gardensupport outputgardenoutput (8); a bare tagged answer shares only the last one: P = 1, R = 1/8.
        Assert.Equal("outputgardenoutput", PerkMetrics.Normalize("<output>garden</output>"));
        Assert.Equal(8, PerkMetrics.Normalize(gold).Split(' ').Length);
        Assert.Equal(2 * 1.0 * 0.125 / 1.125, PerkMetrics.F1("<output>garden</output>", gold), 10);
        Assert.Equal(1.0, PerkMetrics.F1("the", "a"));                           // both empty after normalisation
        Assert.Equal(0.0, PerkMetrics.F1("the", "garden"));
    }

    [Fact]
    public void SubEM_is_substring_match_of_the_gold_span()
    {
        Assert.Equal(1, PerkMetrics.SubExactMatch("<output>It is in the garden now</output>", "<output>garden</output>"));
        Assert.Equal(0, PerkMetrics.SubExactMatch("<output>kitchen</output>", "<output>garden</output>"));
    }

    [Fact]
    public void Babilong_label_accuracy_needs_the_target_to_be_the_only_new_label()
    {
        var labels = BabiVocabulary.Labels(3);
        Assert.True(PerkMetrics.BabilongLabelCorrect("The milk was in the office. Before the bedroom...", "office", "Where was the milk before the bedroom?", labels));
        Assert.False(PerkMetrics.BabilongLabelCorrect("office or garden", "office", "Where was the milk before the bedroom?", labels));
        // Text after the first '.' is ignored.
        Assert.False(PerkMetrics.BabilongLabelCorrect("Unknown. office", "office", "Where is the milk?", labels));
        // Question labels are not counted in the output.
        Assert.True(PerkMetrics.BabilongLabelCorrect("bedroom then office", "office", "Where was the milk before the bedroom?", labels));
        Assert.True(PerkMetrics.BabilongLabelCorrectOnOutput("<support>x garden</support>\n<output>office</output>", "office", "Where is the milk?", labels));
    }

    [Fact]
    public void Summary_groups_by_task_length_and_position()
    {
        var s = new MetricSummary();
        var a = new PerkExample("1", new[] { "c" }, "Where is Mary?", "garden", new[] { "Mary Event 0: Mary went to the garden." }, "babilong/qa1", 8192);
        var b = a with { Id = "2", Length = 1024 };
        var g = new PerkExample("3", new[] { "d" }, "Instruction: x", "f('a')", null, "longgorilla/huggingface_api", 0, "mid");
        s.Add(a, "<support>Mary Event 0: Mary went to the garden.</support>\n<output>garden</output>");
        s.Add(a, "<output>kitchen</output>");
        s.Add(b, "<output>garden</output>");
        s.Add(g, "f('a')");
        var groups = s.Groups();
        Assert.Equal(4, groups.Count);
        var qa1_8k = groups.Single(x => x.Task == "babilong/qa1" && x.Length == 8192);
        Assert.Equal((2, 0.5, 0.5), (qa1_8k.Count, qa1_8k.Accuracy, qa1_8k.LabelAccuracy!.Value));
        Assert.Equal("mid", groups.Single(x => x.Task.StartsWith("longgorilla")).Position);
        Assert.Null(groups.Single(x => x.Task.StartsWith("longgorilla")).LabelAccuracy);
        Assert.Equal(0.75, groups[^1].Accuracy);
        Assert.Contains("babilong/qa1", s.ToTable());
    }
}
