using System.CommandLine;
using System.Text.Json.Nodes;
using PerkSharp.IO;
using PerkSharp.Models;
using PerkSharp.Runtime;
using PerkSharp.Tokenization;
using PerkSharp.Training;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk init-model --arch gpt2|qwen2|llama [sizes] --out DIR`: a randomly initialised HF-format checkpoint
/// (config.json, model.safetensors, tokenizer files) for tests and experiments. The tokenizer is byte-level with
/// 257 tokens (256 bytes + &lt;|endoftext|&gt;) unless --arch gpt2 --vocab 50257, which writes GPT-2's real vocabulary.
/// </summary>
public sealed class InitModelCommand : ICliCommand
{
    static readonly Option<string> Arch = new("--arch") { Description = "gpt2 | qwen2 | llama", Required = true };
    static readonly Option<string> Out = new("--out") { Description = "Output model folder", Required = true };
    static readonly Option<int> Layers = new("--layers") { Description = "Decoder layers", DefaultValueFactory = _ => 2 };
    static readonly Option<int> Hidden = new("--hidden") { Description = "Hidden size", DefaultValueFactory = _ => 64 };
    static readonly Option<int> Heads = new("--heads") { Description = "Attention heads", DefaultValueFactory = _ => 4 };
    static readonly Option<int?> KvHeads = new("--kv-heads") { Description = "Key/value heads (qwen2/llama; default: --heads)" };
    static readonly Option<int?> Intermediate = new("--intermediate") { Description = "MLP width (default: 4 x hidden for gpt2, 3 x hidden otherwise)" };
    static readonly Option<int?> Vocab = new("--vocab") { Description = "Vocabulary size (default 257: byte-level; gpt2 with 50257: GPT-2's tokenizer)" };
    static readonly Option<int?> Positions = new("--positions") { Description = "Maximum positions (default 1024 for gpt2, 2048 otherwise)" };
    static readonly Option<long> Seed = new("--seed") { Description = "Random seed of the weights", DefaultValueFactory = _ => 0L };
    static readonly Option<string> DType = new("--dtype") { Description = "float32 | bfloat16", DefaultValueFactory = _ => "float32" };
    static readonly Option<bool> Force = new("--force") { Description = "Replace DIR if it already holds a model (any other folder is never replaced)" };

    public Command Build()
    {
        var cmd = new Command("init-model", "Write a randomly initialised HF-format checkpoint with tokenizer files")
        {
            Arch, Out, Layers, Hidden, Heads, KvHeads, Intermediate, Vocab, Positions, Seed, DType, Force,
        };
        cmd.SetHandler(parse =>
        {
            var spec = new InitModelSpec(parse.GetValue(Arch)!, parse.GetValue(Layers), parse.GetValue(Hidden), parse.GetValue(Heads),
                parse.GetValue(KvHeads), parse.GetValue(Intermediate), parse.GetValue(Vocab), parse.GetValue(Positions),
                parse.GetValue(Seed), parse.GetValue(DType)!);
            string outDir = parse.GetValue(Out)!;
            OutputGuard.Folder(outDir, BaseModel.Kind, parse.GetValue(Force));   // --force replaces a model, never other files
            var (config, dtype, tokenizer) = spec.Resolve();
            using var model = ModelFactory.Create(config, dtype, spec.Seed);
            // Written into a sibling temp folder and swapped in: a failure leaves no partial checkpoint.
            AtomicFile.WriteDirectory(outDir, tmp => HfCheckpoint.Save(tmp, model, tokenizer));
            long parameters = model.parameters().Sum(p => p.numel());
            Console.WriteLine($"init-model: {config.ModelType}, {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, " +
                              $"heads {config.NumAttentionHeads}/{config.NumKeyValueHeads}, intermediate {config.IntermediateSize}, " +
                              $"vocab {config.VocabSize}, positions {config.MaxPositionEmbeddings}, {HfCheckpoint.DTypeName(dtype)}, seed {spec.Seed}");
            Console.WriteLine($"parameters: {parameters:N0}");
            foreach (var f in Directory.GetFiles(outDir).OrderBy(f => f, StringComparer.Ordinal))
                Console.WriteLine($"  {Path.GetFileName(f),-26} {new FileInfo(f).Length,12:N0} bytes");
            Console.WriteLine($"init-model: wrote {Path.GetFullPath(outDir)}");
            return 0;
        });
        return cmd;
    }
}

/// <summary>The validated options of init-model, turned into a config, a dtype and a tokenizer.</summary>
public sealed record InitModelSpec(string Arch, int Layers, int Hidden, int Heads, int? KvHeads, int? Intermediate,
                                  int? Vocab, int? Positions, long Seed, string DType)
{
    public const int ByteVocab = 257;

    public (ModelConfig Config, TorchSharp.torch.ScalarType DType, ITokenizer Tokenizer) Resolve()
    {
        if (Arch is not ("gpt2" or "qwen2" or "llama")) throw new PerkException($"--arch \"{Arch}\" is not supported (expected gpt2, qwen2 or llama)");
        void Pos(string name, int? v) { if (v is int x && x < 1) throw new PerkException($"{name} must be >= 1 (got {x})"); }
        Pos("--layers", Layers); Pos("--hidden", Hidden); Pos("--heads", Heads); Pos("--kv-heads", KvHeads);
        Pos("--intermediate", Intermediate); Pos("--positions", Positions);
        if (Hidden % Heads != 0) throw new PerkException($"--hidden ({Hidden}) must be divisible by --heads ({Heads})");
        if (Arch == "gpt2" && KvHeads is int kv && kv != Heads) throw new PerkException("--kv-heads: gpt2 has no grouped-query attention (omit it or set it to --heads)");
        int vocab = Vocab ?? ByteVocab;
        if (vocab < ByteVocab) throw new PerkException($"--vocab {vocab} is too small for the byte-level tokenizer (needs >= {ByteVocab})");
        var dtype = HfCheckpoint.ParseDType(DType);
        if (dtype == TorchSharp.torch.ScalarType.Float16) throw new PerkException("--dtype float16 is not supported for compute (use float32 or bfloat16)");

        bool realGpt2 = Arch == "gpt2" && vocab == Gpt2Tokenizer.EndOfTextId + 1;
        int eos = realGpt2 ? Gpt2Tokenizer.EndOfTextId : ByteVocab - 1;
        var o = new JsonObject { ["model_type"] = Arch, ["vocab_size"] = vocab, ["bos_token_id"] = eos, ["eos_token_id"] = eos };
        if (Arch == "gpt2")
        {
            o["n_embd"] = Hidden; o["n_layer"] = Layers; o["n_head"] = Heads; o["n_inner"] = Intermediate ?? 4 * Hidden;
            o["n_positions"] = Positions ?? 1024;
        }
        else
        {
            o["hidden_size"] = Hidden; o["num_hidden_layers"] = Layers; o["num_attention_heads"] = Heads;
            o["num_key_value_heads"] = KvHeads ?? Heads; o["intermediate_size"] = Intermediate ?? 3 * Hidden;
            o["max_position_embeddings"] = Positions ?? 2048;
            o["rope_theta"] = Arch == "qwen2" ? 1000000.0 : 500000.0;
            o["tie_word_embeddings"] = Arch == "qwen2";
        }
        o["torch_dtype"] = HfCheckpoint.DTypeName(dtype);
        var config = ModelConfig.FromJson((JsonObject)JsonNode.Parse(o.ToJsonString())!, "init-model options");
        ITokenizer tok = realGpt2 ? new Gpt2Tokenizer() : ByteLevelTokenizer(Arch);
        return (config, dtype, tok);
    }

    /// <summary>256 byte tokens (id = byte value) + &lt;|endoftext|&gt; = 256 as eos and pad, no merges.</summary>
    public static ByteLevelBpeTokenizer ByteLevelTokenizer(string modelType)
    {
        const string eot = Gpt2Tokenizer.EndOfText;
        var spec = new BpeSpec(modelType, ByteLevel.ByteVocabulary(eot), new List<(string, string)>(),
            new List<AddedToken> { new(ByteVocab - 1, eot, true) }, ByteLevel.PatternFor(modelType), modelType == "qwen2",
            eot, eot, null, false);
        return new ByteLevelBpeTokenizer(spec, "byte-level tokenizer");
    }
}
