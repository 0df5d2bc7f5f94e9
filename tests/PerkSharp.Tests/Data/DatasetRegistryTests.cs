using PerkSharp.Data;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Tests.Data;

/// <summary>
/// The dataset registry: what `perk data generate` writes, `perk train` (dataset_name, dataset_subset) and `perk eval`
/// (folder discovery) read alike; unknown names and layouts are one line that lists what exists.
/// </summary>
public class DatasetRegistryTests
{
    /// <summary>Two examples or databases per split of every generated family (LongGorilla: torchhub, all placements).</summary>
    internal static string Generate(params string[] splits)
    {
        string d = DataPaths.TempDir();
        foreach (var split in splits)
        {
            Assert.Equal(0, DataCliTests.Run("data", "generate", "--task", "babilong", "--subset", "qa1", "--length", "0k", "--split", split, "--count", "2", "--out", d));
            Assert.Equal(0, DataCliTests.Run("data", "generate", "--task", "student_records", "--length", "1k", "--split", split, "--count", "1", "--out", d));
            Assert.Equal(0, DataCliTests.Run("data", "generate", "--task", "student_records", "--length", "2k", "--query", "aggregate", "--split", split, "--count", "1", "--out", d));
            Assert.Equal(0, DataCliTests.Run("data", "generate", "--task", "longgorilla", "--hub", "torchhub", "--length", "1k", "--split", split, "--count", "2",
                "--out", d, "--gorilla", DataPaths.Shared("gorilla")));
        }
        return d;
    }

    static TrainConfig Cfg(params string[] overrides) => TrainConfigLoader.Parse("model_name_or_path: m\n", "t.yaml", overrides);

    [Fact]
    public void Every_family_and_subset_data_generate_writes_loads_for_train_and_eval()
    {
        string d = Generate("train");
        var found = DatasetRegistry.Discover(d);                           // what perk eval / data stats / check data see
        var expected = new[] { "babilong qa1_0k" }
            .Concat(StudentRecordsReader.Queries.Select(q => $"student_records 1k/{q}")).Append("student_records 2k/aggregate")
            .Concat(LongGorillaGenerator.Locations.Select(l => $"longgorilla torchhub_api_{l}")).Order(StringComparer.Ordinal);
        Assert.Equal(expected, found.Select(s => $"{s.Family.Name} {s.Subset}").Order(StringComparer.Ordinal));
        foreach (var set in found)
        {
            Assert.Equal("train", set.Split);
            Assert.Equal(Path.GetFullPath(d), Path.GetFullPath(set.DataDir!));
            // The subset eval found is one a training config can name, and both read the same examples.
            var viaConfig = DatasetRegistry.Open(d, set.Family.Name, set.Subset, "train").Load();
            var viaEval = set.Load();
            Assert.NotEmpty(viaEval);
            Assert.Equal(viaEval.Select(e => (e.Id, e.Task, e.Length, e.Answer)), viaConfig.Select(e => (e.Id, e.Task, e.Length, e.Answer)));
            Assert.StartsWith(set.Family.Name + "/", viaEval[0].Task);
        }
        // A length folder alone is every question file in it: five for --query all, one for --query aggregate.
        var all = DatasetRegistry.Open(d, "student_records", "1k", "train").Load();
        Assert.Equal(found.Where(s => s.Subset.StartsWith("1k/")).Sum(s => s.Load().Count), all.Count);
        Assert.Equal(StudentRecordsReader.Queries.Select(q => "student_records/" + q), all.Select(e => e.Task).Distinct());
        Assert.All(DatasetRegistry.Open(d, "student_records", "2k", "train").Load(), e => Assert.Equal("student_records/aggregate", e.Task));
        Assert.Equal(1024, all[0].Length);
        Assert.Equal("longgorilla/torchhub_api", DatasetRegistry.Open(d, "longgorilla", "torchhub_api_rnd", "train").Load()[0].Task);
        // Each family lists the subsets it has on disk (the options unknown-subset errors show).
        Assert.Equal(new[] { "1k" }.Concat(StudentRecordsReader.Queries.Select(q => "1k/" + q)).Concat(new[] { "2k", "2k/aggregate" }), DatasetRegistry.StudentRecords.Subsets(d));
        Assert.Equal(new[] { "qa1_0k" }, DatasetRegistry.BabiLong.Subsets(d));
        Assert.Equal(4, DatasetRegistry.LongGorilla.Subsets(d).Count);
    }

    [Fact]
    public void Train_config_loads_student_records_and_longgorilla_through_the_registry()
    {
        string d = Generate("train", "validation");
        foreach (var (name, subset) in new[] { ("student_records", "1k"), ("student_records", "1k/relation"), ("longgorilla", "torchhub_api_pre"), ("babilong", "qa1_0k") })
        {
            var cfg = Cfg($"data_dir={d}", $"dataset_name={name}", $"dataset_subset={subset}");
            var data = TrainData.Load(cfg);
            Assert.NotEmpty(data.Train);
            Assert.NotEmpty(data.Validation);
            Assert.Null(data.MissingValidation);
            static string Text(PerkExample e) => string.Join("|", e.Context) + e.Question;
            Assert.Empty(data.Train.Select(Text).Intersect(data.Validation.Select(Text)));     // the validation split's own files
            Assert.All(data.Train, e => Assert.StartsWith(name + "/", e.Task));
        }
        var noVal = TrainData.Load(Cfg($"data_dir={Generate("train")}", "dataset_name=student_records", "dataset_subset=1k/recall"));
        Assert.Empty(noVal.Validation);
        Assert.EndsWith(Path.Combine("1k", "validation", "recall.jsonl"), noVal.MissingValidation);
    }

    [Fact]
    public void Unknown_family_subset_and_layout_errors_are_one_line_listing_the_options()
    {
        string d = Generate("train");
        static string Fails(Action a) { var m = Assert.Throws<PerkException>(a).Message; Assert.DoesNotContain('\n', m); return m; }

        string family = Fails(() => Cfg("dataset_name=babilon"));
        Assert.StartsWith("t.yaml: dataset_name babilon: unknown dataset; expected one of", family);
        Assert.All(DatasetRegistry.Names, n => Assert.Contains(n, family));

        string query = Fails(() => Cfg("dataset_name=student_records", "dataset_subset=1k/recal"));
        Assert.Contains("unknown question type \"recal\"", query);
        Assert.All(StudentRecordsReader.Queries, q => Assert.Contains(q, query));

        // A subset that is not on disk: the layout, the subset form and the subsets present.
        string missing = Fails(() => DatasetRegistry.Open(d, "babilong", "qa2_1k", "train").Load());
        Assert.Contains("qa2_1k", missing);
        Assert.Contains("train.jsonl: file not found", missing);
        Assert.Contains("babilong/{subset}/{split}.jsonl", missing);
        Assert.Contains($"subsets under {Path.Combine(d, "babilong")}: qa1_0k", missing);
        string lg = Fails(() => DatasetRegistry.Open(d, "longgorilla", "huggingface_api_pre", "train").Load());
        Assert.Contains("torchhub_api_mid, torchhub_api_post, torchhub_api_pre, torchhub_api_rnd", lg);
        string sr = Fails(() => DatasetRegistry.Open(d, "student_records", "8k/sort", "train").Load());
        Assert.Contains("1k, 1k/recall, 1k/relation, 1k/aggregate, 1k/count, 1k/sort, 2k, 2k/aggregate", sr);

        // Student Records in the BabiLong layout (student_records/4k/train.jsonl): the error names the layout it expects.
        Directory.CreateDirectory(Path.Combine(d, "student_records", "4k"));
        File.Copy(Path.Combine(d, "babilong", "qa1_0k", "train.jsonl"), Path.Combine(d, "student_records", "4k", "train.jsonl"));
        string layout = Fails(() => DatasetRegistry.Open(d, "student_records", "4k", "train").Load());
        Assert.Contains("student_records/{length}/{split}/context.jsonl + {query}.jsonl", layout);
        Assert.Contains(Path.Combine("4k", "train", "context.jsonl") + ": file not found", layout);

        Assert.Contains("no longgorilla data under", Fails(() => DatasetRegistry.Open(DataPaths.TempDir(), "longgorilla", "torchhub_api_pre", "test").Load()));
        Assert.Contains("expected train, validation or test", Fails(() => DatasetRegistry.Open(d, "babilong", "qa1_0k", "dev")));
        // data generate names only the families it writes.
        Assert.NotEqual(0, DataCliTests.Run("data", "generate", "--task", "jsonl", "--out", d));
        string gen = Fails(() => DatasetRegistry.Get("jsonl", "--task", generatedOnly: true));
        Assert.Equal("--task jsonl: unknown dataset; expected one of student_records (student_records/{length}/{split}/context.jsonl + {query}.jsonl), " +
                     "babilong (babilong/{subset}/{split}.jsonl), longgorilla (longgorilla/{subset}/{split}.jsonl)", gen);
    }
}
