using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Runtime;

namespace PerkSharp.Models;

/// <summary>
/// The fields of an HF <c>config.json</c> that GPT-2, Qwen2 and Llama need, under one naming (the Llama/Qwen2 one);
/// GPT-2's n_embd/n_layer/n_head/n_positions/n_inner are mapped on read and written back under their own names.
/// Unknown keys are kept in <see cref="Extra"/> so that a saved config round-trips.
/// </summary>
public sealed class ModelConfig
{
    public string ModelType { get; set; } = "gpt2";              // gpt2 | qwen2 | llama
    public string[] Architectures { get; set; } = Array.Empty<string>();
    public int VocabSize { get; set; }
    public int HiddenSize { get; set; }
    public int NumHiddenLayers { get; set; }
    public int NumAttentionHeads { get; set; }
    public int NumKeyValueHeads { get; set; }
    public int IntermediateSize { get; set; }
    public int MaxPositionEmbeddings { get; set; }
    public int HeadDim { get; set; }                              // hidden / heads unless config says otherwise
    public double RmsNormEps { get; set; } = 1e-6;
    public double LayerNormEpsilon { get; set; } = 1e-5;
    public double RopeTheta { get; set; } = 10000.0;
    public RopeScaling? RopeScaling { get; set; }
    public bool TieWordEmbeddings { get; set; } = true;
    public bool AttentionBias { get; set; }                       // q/k/v bias (Qwen2: true; Llama: attention_bias)
    public bool MlpBias { get; set; }
    public string HiddenAct { get; set; } = "gelu_new";
    public int? BosTokenId { get; set; }
    public int? EosTokenId { get; set; }
    public int? PadTokenId { get; set; }
    public string TorchDtype { get; set; } = "float32";
    public JsonObject Extra { get; set; } = new();

    public bool IsGpt2 => ModelType == "gpt2";

    public static ModelConfig Load(string path)
    {
        if (Directory.Exists(path)) throw new PerkException($"{path}: is a folder; expected the model's config.json file");
        if (!File.Exists(path)) throw new PerkException($"{path}: config.json not found");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new PerkException($"{path}: invalid JSON ({e.Message.Split('\n')[0]})"); }
        if (node is not JsonObject obj) throw new PerkException($"{path}: expected a JSON object");
        return FromJson(obj, path);
    }

    public static ModelConfig FromJson(JsonObject o, string source = "config.json")
    {
        var c = new ModelConfig();
        string type = Str(o, "model_type", source) ?? "";
        c.ModelType = type switch
        {
            "gpt2" => "gpt2",
            "qwen2" => "qwen2",
            "llama" => "llama",
            "" => throw new PerkException($"{source}: missing \"model_type\" (expected gpt2, qwen2 or llama)"),
            _ => throw new PerkException($"{source}: model_type \"{type}\" is not supported (expected gpt2, qwen2 or llama)"),
        };
        c.Architectures = o["architectures"] is JsonArray arr ? arr.Select(x => x?.ToString() ?? "").ToArray() : Array.Empty<string>();
        if (c.IsGpt2)
        {
            c.VocabSize = Int(o, "vocab_size", source, true)!.Value;
            c.HiddenSize = Int(o, "n_embd", source, true)!.Value;
            c.NumHiddenLayers = Int(o, "n_layer", source, true)!.Value;
            c.NumAttentionHeads = Int(o, "n_head", source, true)!.Value;
            c.NumKeyValueHeads = c.NumAttentionHeads;
            c.IntermediateSize = Int(o, "n_inner", source) ?? 4 * c.HiddenSize;
            c.MaxPositionEmbeddings = Int(o, "n_positions", source) ?? Int(o, "n_ctx", source) ?? 1024;
            c.LayerNormEpsilon = Dbl(o, "layer_norm_epsilon", source) ?? 1e-5;
            c.HiddenAct = Str(o, "activation_function", source) ?? "gelu_new";
            c.TieWordEmbeddings = Bool(o, "tie_word_embeddings", source) ?? true;
            c.AttentionBias = true; c.MlpBias = true;
        }
        else
        {
            c.VocabSize = Int(o, "vocab_size", source, true)!.Value;
            c.HiddenSize = Int(o, "hidden_size", source, true)!.Value;
            c.NumHiddenLayers = Int(o, "num_hidden_layers", source, true)!.Value;
            c.NumAttentionHeads = Int(o, "num_attention_heads", source, true)!.Value;
            c.NumKeyValueHeads = Int(o, "num_key_value_heads", source) ?? c.NumAttentionHeads;
            c.IntermediateSize = Int(o, "intermediate_size", source, true)!.Value;
            c.MaxPositionEmbeddings = Int(o, "max_position_embeddings", source) ?? 2048;
            c.RmsNormEps = Dbl(o, "rms_norm_eps", source) ?? 1e-6;
            c.RopeTheta = Dbl(o, "rope_theta", source) ?? 10000.0;
            c.HiddenAct = Str(o, "hidden_act", source) ?? "silu";
            c.TieWordEmbeddings = Bool(o, "tie_word_embeddings", source) ?? false;
            c.AttentionBias = c.ModelType == "qwen2" || (Bool(o, "attention_bias", source) ?? false);
            c.MlpBias = Bool(o, "mlp_bias", source) ?? false;
            c.RopeScaling = o["rope_scaling"] is JsonObject rs ? RopeScaling.FromJson(rs, source) : null;
        }
        c.HeadDim = Int(o, "head_dim", source) ?? (c.NumAttentionHeads > 0 ? c.HiddenSize / c.NumAttentionHeads : 0);
        c.BosTokenId = Int(o, "bos_token_id", source);
        c.EosTokenId = o["eos_token_id"] is JsonArray eosArr ? (int?)eosArr[0]!.GetValue<int>() : Int(o, "eos_token_id", source);
        c.PadTokenId = Int(o, "pad_token_id", source);
        c.TorchDtype = Str(o, "torch_dtype", source) ?? Str(o, "dtype", source) ?? "float32";
        c.Validate(source);
        foreach (var kv in o) c.Extra[kv.Key] = kv.Value?.DeepClone();
        return c;
    }

    /// <summary>Checks ranges and divisibility so that a bad config fails here, not inside libtorch.</summary>
    public void Validate(string source = "config.json")
    {
        void Pos(string key, int v) { if (v < 1) throw new PerkException($"{source}: \"{key}\" must be >= 1 (got {v})"); }
        Pos("vocab_size", VocabSize); Pos("hidden_size", HiddenSize); Pos("num_hidden_layers", NumHiddenLayers);
        Pos("num_attention_heads", NumAttentionHeads); Pos("num_key_value_heads", NumKeyValueHeads);
        Pos("intermediate_size", IntermediateSize); Pos("max_position_embeddings", MaxPositionEmbeddings);
        Pos("head_dim", HeadDim);
        if (IsGpt2 && HiddenSize % NumAttentionHeads != 0)
            throw new PerkException($"{source}: n_embd ({HiddenSize}) must be divisible by n_head ({NumAttentionHeads})");
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw new PerkException($"{source}: num_attention_heads ({NumAttentionHeads}) must be divisible by num_key_value_heads ({NumKeyValueHeads})");
        if (!IsGpt2 && HeadDim % 2 != 0) throw new PerkException($"{source}: head_dim ({HeadDim}) must be even for rotary embeddings");
        foreach (var (k, id) in new[] { ("bos_token_id", BosTokenId), ("eos_token_id", EosTokenId), ("pad_token_id", PadTokenId) })
            if (id is int v && (v < 0 || v >= VocabSize)) throw new PerkException($"{source}: \"{k}\" {v} is outside the vocabulary (size {VocabSize})");
    }

    /// <summary>The config.json HF transformers would write for this model.</summary>
    public JsonObject ToJson()
    {
        var o = (JsonObject)Extra.DeepClone();
        o["model_type"] = ModelType;
        o["architectures"] = new JsonArray(Architectures.Length > 0 ? Architectures.Select(a => (JsonNode?)a).ToArray()
            : new JsonNode?[] { IsGpt2 ? "GPT2LMHeadModel" : ModelType == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM" });
        o["vocab_size"] = VocabSize;
        if (IsGpt2)
        {
            o["n_embd"] = HiddenSize; o["n_layer"] = NumHiddenLayers; o["n_head"] = NumAttentionHeads;
            o["n_positions"] = MaxPositionEmbeddings; o["n_ctx"] = MaxPositionEmbeddings;
            o["n_inner"] = IntermediateSize; o["layer_norm_epsilon"] = LayerNormEpsilon;
            o["activation_function"] = HiddenAct;
        }
        else
        {
            o["hidden_size"] = HiddenSize; o["num_hidden_layers"] = NumHiddenLayers;
            o["num_attention_heads"] = NumAttentionHeads; o["num_key_value_heads"] = NumKeyValueHeads;
            o["intermediate_size"] = IntermediateSize; o["max_position_embeddings"] = MaxPositionEmbeddings;
            o["rms_norm_eps"] = RmsNormEps; o["rope_theta"] = RopeTheta; o["hidden_act"] = HiddenAct;
            o["head_dim"] = HeadDim;
            if (ModelType == "llama") { o["attention_bias"] = AttentionBias; o["mlp_bias"] = MlpBias; }
            if (RopeScaling != null) o["rope_scaling"] = RopeScaling.ToJson();
        }
        o["tie_word_embeddings"] = TieWordEmbeddings;
        if (BosTokenId is int b) o["bos_token_id"] = b;
        if (EosTokenId is int e) o["eos_token_id"] = e;
        if (PadTokenId is int p) o["pad_token_id"] = p;
        o["torch_dtype"] = TorchDtype;
        return o;
    }

    public void Save(string path) =>
        IO.AtomicFile.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    // --- typed readers with one-line errors ---------------------------------------------------------------------
    static int? Int(JsonObject o, string key, string src, bool required = false)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null)
            return required ? throw new PerkException($"{src}: missing required key \"{key}\"" + NearKey(o, key)) : null;
        if (n is JsonValue v && v.TryGetValue<long>(out var l) && l is >= int.MinValue and <= int.MaxValue) return (int)l;
        if (TryNumber(n, out var x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue) return (int)x;
        throw new PerkException($"{src}: \"{key}\" must be an integer (got {n.ToJsonString()})");
    }
    /// <summary>" (did you mean ...?)" when a present key is a near miss of the missing one (e.g. n_layers for n_layer).</summary>
    static string NearKey(JsonObject o, string key)
    {
        var near = o.Select(kv => kv.Key).Where(k => k != key && (k.StartsWith(key) || key.StartsWith(k) || Distance(k, key) <= 2))
            .OrderBy(k => Distance(k, key)).FirstOrDefault();
        return near != null ? $" (found \"{near}\"; did you mean \"{key}\"?)" : "";
    }
    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
    static double? Dbl(JsonObject o, string key, string src)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (TryNumber(n, out var d) && double.IsFinite(d)) return d;
        throw new PerkException($"{src}: \"{key}\" must be a number (got {n.ToJsonString()})");
    }
    /// <summary>A JSON number from parsed text or from a value built in code (JsonValue of int, long, double...).</summary>
    internal static bool TryNumber(JsonNode? n, out double d)
    {
        d = 0;
        return n is JsonValue v && v.GetValueKind() == JsonValueKind.Number &&
               double.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out d);
    }
    static bool? Bool(JsonObject o, string key, string src)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        throw new PerkException($"{src}: \"{key}\" must be true or false (got {n.ToJsonString()})");
    }
    internal static string? Str(JsonObject o, string key, string src)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw new PerkException($"{src}: \"{key}\" must be a string (got {n.ToJsonString()})");
    }
}

/// <summary>HF rope_scaling; only rope_type "llama3" changes the frequencies (others are rejected clearly).</summary>
public sealed record RopeScaling(string RopeType, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings)
{
    public static RopeScaling FromJson(JsonObject o, string src)
    {
        string type = ModelConfig.Str(o, "rope_type", src) ?? ModelConfig.Str(o, "type", src) ?? "";
        if (type == "default") type = "default";
        else if (type != "llama3") throw new PerkException($"{src}: rope_scaling type \"{type}\" is not supported (supported: llama3)");
        double D(string k, double dflt) => ModelConfig.TryNumber(o[k], out var d) ? d : dflt;
        return new RopeScaling(type, D("factor", 8.0), D("low_freq_factor", 1.0), D("high_freq_factor", 4.0),
            (int)D("original_max_position_embeddings", 8192));
    }

    public JsonObject ToJson() => new()
    {
        ["rope_type"] = RopeType, ["factor"] = Factor, ["low_freq_factor"] = LowFreqFactor,
        ["high_freq_factor"] = HighFreqFactor, ["original_max_position_embeddings"] = OriginalMaxPositionEmbeddings,
    };
}
