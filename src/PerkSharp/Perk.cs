using PerkSharp.Data;
using PerkSharp.Evaluation;
using PerkSharp.IO;
using PerkSharp.MetaLearning;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using PerkSharp.Training;

namespace PerkSharp;

/// <summary>
/// PERK in a few lines (README.md, "Library"): open a trained run, encode a document into a LoRA memory with the
/// meta-learned inner loop, ask questions under that memory (the document is never in the prompt), and save or load
/// memories as PEFT adapter folders. Every input check lives here and fails with one <see cref="PerkException"/> line;
/// `perk encode` and `perk ask` (src/PerkSharp.Cli/Commands) are thin wrappers over this class.
/// </summary>
/// <example><code>
/// using var perk = Perk.Open("runs/x");
/// using var memory = perk.Encode(File.ReadAllText("notes.txt"));
/// PerkAnswer a = perk.Ask(memory, "Where is Mary?");
/// memory.Save("notes.memory");
/// </code></example>
public sealed class Perk : IDisposable
{
    /// <summary>Segment size in the model's tokens when none is given (less when the model's window is smaller).</summary>
    public const int DefaultSegmentTokens = 256;

    const int MinSegmentTokens = 16;

    readonly TrainedPerk _run;
    readonly Lazy<string> _fingerprint;
    bool _disposed;

    Perk(TrainedPerk run)
    {
        _run = run;
        // Read once, on the first encode or memory check: it samples the weight files.
        _fingerprint = new Lazy<string>(() => WeightsFingerprint.Of(run.Base.Directory));
    }

    /// <summary>The checkpoint folder in use (a run folder resolves to its best checkpoint by val_loss, else its last).</summary>
    public string CheckpointDirectory => _run.CheckpointDir;

    /// <summary>The base model folder the run was trained on; memories only make sense on it.</summary>
    public string BaseModelDirectory => _run.Base.Directory;

    /// <summary>The model's positions: a segment, or a question prompt plus its answer, must fit in them.</summary>
    public int MaxPositions => _run.Base.Model.Config.MaxPositionEmbeddings;

    /// <summary>Answer length limit when none is given (the run's max_new_tokens).</summary>
    public int DefaultMaxNewTokens => _run.Config.MaxNewTokens;

    /// <summary>
    /// The memory an encode may use (default: <see cref="MemoryBudget.Default"/> when the run is opened). A long
    /// document is then adapted to in parts that fit (src/PerkSharp/Runtime/EncodeMemory.cs); one that cannot fit
    /// even one segment at a time is refused in one line before the inner loop starts. Null: no budget.
    /// </summary>
    public MemoryBudget? Budget { get => _run.System.Budget; set => _run.System.Budget = value; }

    /// <summary>Where encodes show their progress and ETA (null: silent, the default).</summary>
    public TextWriter? EncodeProgress { get => _run.System.EncodeProgress; set => _run.System.EncodeProgress = value; }

    /// <summary>
    /// Opens a PERK run folder or checkpoint folder and loads its base model and meta-parameters. Initialises
    /// libtorch on all cores unless the process did so already (<see cref="TorchRuntime.Initialize"/>).
    /// An FT-ICR run is refused before anything loads: it has no meta-learned encoder.
    /// </summary>
    public static Perk Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var cfg = TrainedPerk.ReadConfig(path, null, out string dir);
        if (cfg.Method == "ft_icr") throw new PerkException($"{dir}: an FT-ICR run has no encoder; encoding and asking need a PERK run");
        if (!TorchRuntime.IsInitialised) TorchRuntime.Initialize();
        return new Perk(TrainedPerk.Open(path)) { Budget = MemoryBudget.Default() };
    }

    /// <summary>
    /// Refuses a segment size the run's model cannot take, reading only the checkpoint's configs (so a caller can
    /// fail before the model loads). <paramref name="name"/> names the setting in the message.
    /// </summary>
    public static void CheckSegmentTokens(string path, int? segmentTokens, string name = "segment size")
    {
        if (segmentTokens is null) return;
        TrainedPerk.ReadConfig(path, null, out string dir);
        CheckSegmentTokens(segmentTokens, ModelConfig.Load(Path.Combine(PerkCheckpoint.BaseModel(dir), "config.json")).MaxPositionEmbeddings, name);
    }

    static void CheckSegmentTokens(int? segmentTokens, int positions, string name)
    {
        if (segmentTokens is not int n) return;
        if (n < MinSegmentTokens) throw new PerkException($"{name} {n}: expected at least {MinSegmentTokens}");
        if (n > positions) throw new PerkException($"{name} {n}: larger than the model's {positions} positions");
    }

    /// <summary>
    /// The text of a document file, refused in one line when it is missing, not valid UTF-8 (rather than silently
    /// decoded with replacement characters) or blank.
    /// </summary>
    public static string ReadDocument(string path)
    {
        if (!File.Exists(path)) throw new PerkException($"{path}: document not found");
        string text;
        try { text = File.ReadAllText(path, new System.Text.UTF8Encoding(false, true)); }
        catch (System.Text.DecoderFallbackException) { throw new PerkException($"{path}: not valid UTF-8 text"); }
        if (string.IsNullOrWhiteSpace(text)) throw new PerkException($"{path}: the document is empty");
        return text;
    }

    /// <summary>
    /// Context segments of a text that each fit the model's window, counted in the model's own tokens
    /// (<paramref name="tokenizer"/>): at most <paramref name="segmentTokens"/> (default <see cref="DefaultSegmentTokens"/>),
    /// fewer when the segment prompt and end-of-text would not fit otherwise. Sentences first, then word windows
    /// (src/PerkSharp/Data/Readers/GenericReader.cs), so any text segments.
    /// </summary>
    public static List<string> Segment(string text, ITokenizer tokenizer, int maxPositions, int? segmentTokens = null)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new PerkException("the document is empty");
        int overhead = tokenizer.CountTokens(PerkFormat.SegmentPrompt(999_999)) + 1;      // prompt of a large doc id + eos
        int size = Math.Max(1, Math.Min(segmentTokens ?? DefaultSegmentTokens, maxPositions - overhead));
        return GenericReader.Segment(text, size, tokenizer.CountTokens);
    }

    /// <summary>The segments <see cref="Encode(string, int?)"/> adapts to, in this model's tokens.</summary>
    public List<string> Segment(string text, int? segmentTokens = null)
    {
        ThrowIfDisposed();
        CheckSegmentTokens(segmentTokens, MaxPositions, "segment size");
        return Segment(text, _run.Base.Tokenizer, MaxPositions, segmentTokens);
    }

    /// <summary>The segments of a UTF-8 document file (<see cref="ReadDocument"/>, then <see cref="Segment(string, int?)"/>).</summary>
    public List<string> SegmentFile(string path, int? segmentTokens = null) => Segment(ReadDocument(path), segmentTokens);

    /// <summary>Encodes a document: segments it in this model's tokens, then runs the inner loop (<see cref="Encode(IReadOnlyList{string})"/>).</summary>
    public PerkMemory Encode(string text, int? segmentTokens = null) => Encode(Segment(text, segmentTokens));

    /// <summary>Encodes a UTF-8 document file (refused in one line when missing, not UTF-8 or blank).</summary>
    public PerkMemory EncodeFile(string path, int? segmentTokens = null) => Encode(SegmentFile(path, segmentTokens));

    /// <summary>
    /// Adapts the LoRA to the given segments with the run's inner loop and returns the memory, which carries this
    /// base model's name and fingerprint. The libtorch generator is seeded with the run's seed first, so the same
    /// segments give the same memory, as `perk encode` does (inner-loop dropout draws from it).
    /// </summary>
    public PerkMemory Encode(IReadOnlyList<string> segments)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(segments);
        if (segments.Count == 0) throw new PerkException("nothing to encode: no segments");
        int blank = FindBlank(segments);
        if (blank >= 0) throw new PerkException($"segment {blank + 1} is empty");
        string fingerprint = _fingerprint.Value;                            // before the work: it can fail
        TorchSharp.torch.manual_seed(_run.Config.Seed);
        var memory = _run.System.Encode(segments);
        memory.SetBase(BaseModelDirectory, fingerprint);
        return memory;
    }

    /// <summary>
    /// Loads a memory folder (written by <see cref="PerkMemory.Save"/> or `perk encode --out`, or a PEFT adapter of
    /// the same layout) and refuses one encoded on another base model.
    /// </summary>
    public PerkMemory LoadMemory(string directory)
    {
        ThrowIfDisposed();
        var memory = PerkMemory.Load(directory, _run.Meta.Lora);
        try { CheckMemory(memory, directory); }
        catch { memory.Dispose(); throw; }
        return memory;
    }

    /// <summary>Refuses questions that are null or blank, naming the first (1-based), before any model loads.</summary>
    public static void CheckQuestions(IReadOnlyList<string> questions)
    {
        ArgumentNullException.ThrowIfNull(questions);
        if (questions.Count == 0) throw new PerkException("no question to answer");
        int blank = FindBlank(questions);
        if (blank >= 0) throw new PerkException($"question {blank + 1} is empty");
    }

    /// <summary>Greedy answer to one question under the memory; at most <paramref name="maxNewTokens"/> tokens (default: the run's).</summary>
    public PerkAnswer Ask(PerkMemory memory, string question, int? maxNewTokens = null) =>
        Ask(memory, new[] { question }, maxNewTokens)[0];

    /// <summary>
    /// Greedy answers to several questions under one memory, decoded as one batch (what `perk ask` prints). Refuses
    /// blank questions, a question whose prompt leaves no position for the answer, and a memory of another base
    /// model or adapter layout.
    /// </summary>
    public IReadOnlyList<PerkAnswer> Ask(PerkMemory memory, IReadOnlyList<string> questions, int? maxNewTokens = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(memory);
        CheckQuestions(questions);
        CheckMemory(memory, null);
        var tok = _run.Base.Tokenizer;
        for (int i = 0; i < questions.Count; i++)
        {
            int n = tok.CountTokens(PerkFormat.QuestionPrompt(memory.NumDocuments, questions[i]));
            if (n >= MaxPositions)
                throw new PerkException($"question {i + 1} is too long: its prompt takes {n} tokens of the model's {MaxPositions} positions and leaves none for the answer");
        }
        var raw = _run.System.Answer(memory, questions, maxNewTokens ?? DefaultMaxNewTokens);
        return questions.Select((q, i) => PerkAnswer.Parse(q, OutputText.Clean(tok, raw[i]))).ToList();
    }

    /// <summary>A memory fits this run when its tensors have the adapter's layout and it was not encoded on another base.</summary>
    void CheckMemory(PerkMemory memory, string? folder)
    {
        var lora = _run.Meta.Lora;
        string source = folder is null ? "" : folder + ": ";
        if (!ReferenceEquals(memory.Adapter, lora))
        {
            // Another Perk's memory: usable when its layout is this adapter's (same targets, shapes and scale).
            if (!memory.Adapter.TensorNames.SequenceEqual(lora.TensorNames) || memory.Adapter.Options.Scale != lora.Options.Scale)
                throw new PerkException($"{source}this memory's LoRA layout differs from the run's adapter; encode the document again with this run");
            for (int i = 0; i < lora.Count; i++) lora.CheckShape(i, memory.FastWeights[i], folder ?? "memory");
        }
        if (memory.BaseFingerprint is { } fp && fp != _fingerprint.Value)
            throw new PerkException($"{source}this memory was encoded on a different base model than {BaseModelDirectory}; encode the document again with this run");
    }

    static int FindBlank(IReadOnlyList<string> texts)
    {
        for (int i = 0; i < texts.Count; i++) if (string.IsNullOrWhiteSpace(texts[i])) return i;
        return -1;
    }

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Frees the base model and meta-parameters; memories are disposed by their owners.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _run.Dispose();
    }
}
