using PerkSharp.Data;

namespace PerkSharp.Tests.Data;

/// <summary>The release's sample files load and yield exactly the inner and outer sequences of docs/DESIGN.md</summary>
public class OfficialSampleTests
{
    const string Eos = "<|endoftext|>";

    static PerkExample Babilong(string qa) =>
        OfficialReader.ReadSampleFile(DataPaths.Shared("perk-samples", "babilong", qa + ".json"), "babilong", qa + "_1k");

    static string Inner(PerkExample e, int i) => PerkFormat.SegmentPrompt(i) + PerkFormat.SegmentCompletion(e.Context[i], Eos);
    static string Outer(PerkExample e) => PerkFormat.QuestionPrompt(e.Context.Count, e.Question) + PerkFormat.AnswerCompletion(e.Answer, e.Support, Eos);

    [Fact]
    public void Qa2_sample_gives_the_documented_outer_sequence()
    {
        var e = Babilong("qa2");
        Assert.Equal("qa2_1k_0", e.Id);
        Assert.Equal("You have memorized 4 documents.\nWhere is the apple?\nAnswer: <support>John Event 3: John picked up the apple there.\n" +
                     "John Event 4: John travelled to the hallway.</support>\n<output>hallway</output><|endoftext|>", Outer(e));
        Assert.StartsWith("doc_1: John Event 4: John travelled to the hallway. benefit, they a", Inner(e, 1));
        Assert.EndsWith("rldwide market. - Obtain, send, receive <|endoftext|>", Inner(e, 1));
        Assert.Equal("doc_1: ".Length + 1519 + Eos.Length, Inner(e, 1).Length);
    }

    [Fact]
    public void Qa1_and_qa3_samples_give_exact_sequences()
    {
        var q1 = Babilong("qa1");
        Assert.Equal(4, q1.Context.Count);
        Assert.Equal("You have memorized 4 documents.\nWhere is Daniel?\nAnswer: <support>Daniel Event 4: Daniel went back to the garden.</support>\n<output>garden</output><|endoftext|>", Outer(q1));
        string d0 = Inner(q1, 0);
        Assert.StartsWith("doc_0: While Microsoft asserts that the primary aim of this technol", d0);
        Assert.EndsWith("t 0: Mary travelled to the office. As we<|endoftext|>", d0);
        Assert.Equal("doc_0: ".Length + 1682 + Eos.Length, d0.Length);
        Assert.EndsWith("uldn’t be here,” the water manager said.<|endoftext|>", Inner(q1, 1));      // non-ASCII kept

        var q3 = Babilong("qa3");
        Assert.Equal("You have memorized 3 documents.\nWhere was the milk before the bedroom?\nAnswer: <support>Daniel Event 12: Daniel went back to the office.\n" +
                     "Daniel Event 13: Daniel went back to the bedroom.\nDaniel Event 14: Daniel left the milk.</support>\n<output>office</output><|endoftext|>", Outer(q3));
        Assert.StartsWith("doc_2: John Event 5: John went to the office. are available on the ", Inner(q3, 2));
        Assert.Equal("babilong/qa3", q3.Task);
        Assert.Equal(1024, q3.Length);
    }

    [Fact]
    public void Student_records_samples_load_with_their_naming_quirks()
    {
        var all = StudentRecordsReader.ReadSampleFolder(DataPaths.Shared("perk-samples", "student_records"));
        Assert.Equal(5 + 4 + 3, all.Count);                                   // "..." placeholders skipped
        Assert.All(all, e => Assert.Equal(26, e.Context.Count));
        var avg = all.Single(e => e.Question == "What is the average grade of all students?");
        Assert.Equal("student_records/aggregate", avg.Task);                  // allgregation.json
        Assert.Equal("You have memorized 26 documents.\nWhat is the average grade of all students?\nAnswer: 49.3<|endoftext|>", Outer(avg));
        Assert.Equal("doc_0: Student <3109998>, Name: Alison Keith, Year: Sophomore, School: School of Computer Information and Data Sciences, " +
                     "Major: Computer Science, Grade: 72<|endoftext|>", Inner(avg, 0));
        var recall = all.First(e => e.Task == "student_records/recall");
        Assert.Equal("You have memorized 26 documents.\nWhat is the name of the student with ID 3109998?\nAnswer: Alison Keith<|endoftext|>", Outer(recall));
    }

    [Fact]
    public void LongGorilla_sample_loads_with_location()
    {
        var e = OfficialReader.ReadSampleFile(DataPaths.Shared("perk-samples", "longgorilla", "huggingface_api.json"), "longgorilla", "huggingface_api");
        Assert.Equal(14, e.Context.Count);
        Assert.Equal("pre", e.Position);
        Assert.Null(e.Support);
        Assert.Equal("You have memorized 14 documents.\nInstruction: Write an API implementation that takes customer reviews as input and extracts features to analyze customer sentiment.\n" +
                     "Answer: AutoModel.from_pretrained('YituTech/conv-bert-base')<|endoftext|>", Outer(e));
        Assert.StartsWith("doc_0: <api>AutoModel.from_pretrained('YituTech/conv-bert-base')</api> domain: Natural Language Processing Feature Extraction, framework: Hugging Face Transformers,", Inner(e, 0));
    }
}
