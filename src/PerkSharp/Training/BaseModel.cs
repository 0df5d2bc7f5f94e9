using PerkSharp.IO;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;

namespace PerkSharp.Training;

/// <summary>
/// The base LM of a run: an HF folder loaded with its tokenizer, or — for `perk pretrain` and the quickstart — a tiny
/// GPT-2 with a WordLevel vocabulary trained from scratch and saved as an HF folder. A folder is reused when its
/// <c>pretrain_recipe.txt</c> equals the recipe asked for, so a second quickstart skips pretraining.
/// </summary>
public sealed class BaseModel : IDisposable
{
    public const string RecipeFile = "pretrain_recipe.txt";

    /// <summary>A model folder as perk writes it (init-model, pretrain); only such a folder is ever replaced.</summary>
    public static readonly OutputKind Kind = new("model", HfCheckpoint.SavedFiles.Append(RecipeFile).ToArray());

    BaseModel(LoadedModel loaded, bool reused) { Loaded = loaded; Reused = reused; }

    public LoadedModel Loaded { get; }
    public CausalLM Model => Loaded.Model;
    public ITokenizer Tokenizer => Loaded.Tokenizer;
    public string Directory => Loaded.Directory;
    public bool Reused { get; }

    /// <param name="bf16">Base weights in bfloat16 (the adapter stays float32), as the official bf16 runs.</param>
    public static BaseModel Load(string dir, bool bf16 = false) =>
        new(HfCheckpoint.Load(dir, bf16 ? TorchSharp.torch.ScalarType.BFloat16 : null), reused: true);

    /// <summary>Loads <paramref name="dir"/> if it was pretrained with the same recipe, else pretrains and saves it.</summary>
    /// <param name="force">
    /// Replace a model folder that cannot be reused (the quickstart does; `perk pretrain` only with --force). Either way
    /// a folder that is not a model is refused, before pretraining.
    /// </param>
    /// <param name="reading">The supervised reading drills and the held-out probe drills (QuickstartData.Reading); needed when the options ask for reading drills.</param>
    public static BaseModel LoadOrPretrain(string dir, Func<List<string>> corpus, PretrainOptions o, int maxVocab, TextWriter log, bool force = true,
                                           Func<(List<InContextDrill> Train, List<InContextDrill> Probe)>? reading = null)
    {
        string recipe = Recipe(o, maxVocab);
        string marker = Path.Combine(dir, RecipeFile);
        if (File.Exists(marker) && File.ReadAllText(marker) == recipe && File.Exists(Path.Combine(dir, "config.json")))
        {
            try { return Load(dir); }
            catch (PerkException e) { log.WriteLine($"pretrain: cannot reuse {dir} ({e.Message}); training again"); }
        }
        OutputGuard.Folder(dir, Kind, force);
        var docs = corpus();
        if (o.ReadingDrills > 0 && reading == null) throw new ArgumentException("the options ask for reading drills but none were given", nameof(reading));
        var (readTrain, readProbe) = o.ReadingDrills > 0 ? reading!() : (new List<InContextDrill>(), new List<InContextDrill>());
        var tok = WordLevelTokenizer.Build(docs.Concat(readTrain.Select(d => d.Text)).ToList(), maxVocab);
        var readIds = readTrain.Select(d => d.Encode(tok, o.Positions)).ToList();
        var probeIds = readProbe.GroupBy(d => d.Length).ToDictionary(g => g.Key, g => g.Select(d => d.Encode(tok, o.Positions)).ToList());
        var stream = Pretrainer.Stream(docs, tok, out var starts);
        var longStarts = starts.Skip(starts.Length - Math.Min(o.LongDrills, starts.Length)).ToArray();   // the corpus ends with the long drills
        log.WriteLine($"pretrain: {docs.Count} documents, {stream.Length} tokens, vocabulary {tok.VocabSize}");
        CausalLM model;
        using (var bar = new Progress("pretrain", o.Steps))
        {
            double ema = double.NaN;
            model = Pretrainer.Train(stream, tok, o, (s, l) => { ema = double.IsNaN(ema) ? l : 0.95 * ema + 0.05 * l; bar.Report(s, $"loss {ema:0.000}"); }, longStarts,
                reading: readIds, onProbe: probeIds.Count == 0 ? null : (s, m) => LogProbe(log, s, m, probeIds), probeEvery: Math.Max(1, o.Steps / 10));
        }
        if (probeIds.Count > 0) LogProbe(log, o.Steps, model, probeIds);
        try
        {
            // Swapped in whole: a crash leaves the old folder, and the recipe is only ever beside complete weights.
            AtomicFile.WriteDirectory(dir, tmp =>
            {
                HfCheckpoint.Save(tmp, model, tok);
                AtomicFile.WriteAllText(Path.Combine(tmp, RecipeFile), recipe);
            });
        }
        finally { model.Dispose(); }
        return new BaseModel(HfCheckpoint.Load(dir), reused: false);
    }

    /// <summary>The held-out reading score per drill length, one log line per length: the pretraining's learning curve.</summary>
    static void LogProbe(TextWriter log, int step, CausalLM model, Dictionary<string, List<(int[] Ids, int PromptLength)>> probe)
    {
        foreach (var (length, drills) in probe)
        {
            var (loss, exact) = Pretrainer.ReadingScore(model, drills);
            var (lo, hi) = Evaluation.Wilson.OfMean(exact, drills.Count);
            log.WriteLine($"pretrain: step {step}: reading probe {length} (n = {drills.Count}, held-out drills, in-context, teacher-forced): " +
                          $"answer loss {loss:0.000}, every answer token right {100 * exact:0.0}% [{100 * lo:0.0}, {100 * hi:0.0}]");
        }
    }

    /// <summary>
    /// Uses the model folder <paramref name="source"/> (e.g. the shipped base) as <paramref name="dir"/>: copied in whole
    /// unless <paramref name="dir"/> already holds the same weights, so a run folder is self-contained and a later
    /// `perk eval` finds its base. A folder that is not a model is refused.
    /// </summary>
    public static BaseModel CopyFrom(string source, string dir)
    {
        string src = Path.Combine(source, "model.safetensors");
        if (!File.Exists(src)) throw new PerkException($"{source}: not a model folder (no model.safetensors)");
        string dst = Path.Combine(dir, "model.safetensors");
        bool same = File.Exists(dst) && new FileInfo(dst).Length == new FileInfo(src).Length
                    && File.ReadAllBytes(dst).AsSpan().SequenceEqual(File.ReadAllBytes(src));
        if (!same)
        {
            OutputGuard.Folder(dir, Kind, force: true);
            AtomicFile.WriteDirectory(dir, tmp =>
            {
                foreach (var f in System.IO.Directory.GetFiles(source))
                    if (Kind.Owns(Path.GetFileName(f)) || Path.GetFileName(f) == "README.md") File.Copy(f, Path.Combine(tmp, Path.GetFileName(f)));
            });
        }
        return new BaseModel(HfCheckpoint.Load(dir), reused: true);
    }

    /// <summary>
    /// The base model shipped with PerkSharp (models/tiny-qa1 in the repository, copied beside the assemblies), or null
    /// when this build has none.
    /// </summary>
    public static string? Shipped()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "models", ShippedName);
        return File.Exists(Path.Combine(dir, "model.safetensors")) ? dir : null;
    }

    public const string ShippedName = "tiny-qa1";

    internal static string Recipe(PretrainOptions o, int maxVocab) => $"{o} vocab={maxVocab}";

    public string Describe()
    {
        var c = Model.Config;
        return $"{c.ModelType} {c.NumHiddenLayers} layers x {c.HiddenSize}, {c.NumAttentionHeads} heads, vocabulary {c.VocabSize}, " +
               $"{c.MaxPositionEmbeddings} positions, {HfCheckpoint.DTypeName(Model.parameters().First().dtype)} weights" +
               $"{(Reused ? " (reused)" : " (pretrained now)")} in {Directory}";
    }

    public void Dispose() => Loaded.Dispose();
}
