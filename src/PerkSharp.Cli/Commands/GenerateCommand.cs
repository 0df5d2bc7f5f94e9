using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PerkSharp.Generation;
using PerkSharp.IO;
using PerkSharp.Runtime;
using static TorchSharp.torch;

namespace PerkSharp.Cli.Commands;

/// <summary>
/// `perk generate --model DIR (--prompt TEXT | --prompt-ids 1,2,3) [--max-new-tokens N] [--dtype ...] [--json]`:
/// greedy decoding with the KV cache from an HF-format checkpoint folder. With --json one line
/// {"prompt_ids": [...], "output_ids": [...], "text": "..."} where output_ids and text are the generated part only.
/// </summary>
public sealed class GenerateCommand : ICliCommand
{
    public Command Build()
    {
        var model = new Option<string>("--model") { Description = "HF-format model folder (config.json, model.safetensors, tokenizer files)", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text (tokenized without special tokens)" };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Prompt as comma-separated token ids, e.g. 1,2,3" };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Maximum number of generated tokens", DefaultValueFactory = _ => 32 };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype: float32 or bfloat16", DefaultValueFactory = _ => "float32" };
        var json = new Option<bool>("--json") { Description = "Print one JSON line {prompt_ids, output_ids, text}" };
        var cmd = new Command("generate", "Greedy generation (KV cache) from an HF-format GPT-2 / Qwen2 / Llama checkpoint")
        {
            model, prompt, promptIds, maxNew, dtype, json,
        };
        cmd.SetHandler(parse =>
        {
            string? text = parse.GetValue(prompt), idsText = parse.GetValue(promptIds);
            if ((text is null) == (idsText is null)) throw new PerkException("give exactly one of --prompt TEXT or --prompt-ids 1,2,3");
            int n = parse.GetValue(maxNew);
            if (n < 0) throw new PerkException($"--max-new-tokens must be >= 0 (got {n})");
            var type = parse.GetValue(dtype) switch
            {
                "float32" => ScalarType.Float32,
                "bfloat16" => ScalarType.BFloat16,
                var other => throw new PerkException($"--dtype must be float32 or bfloat16 (got \"{other}\")"),
            };
            var ids = idsText is null ? null : ParseIds(idsText);   // before loading: bad flags fail fast

            var checkpoint = HfCheckpoint.Load(parse.GetValue(model)!, type);
            using var lm = checkpoint.Model;
            var tokenizer = checkpoint.Tokenizer;
            var input = ids ?? tokenizer.Encode(text!).ToArray();
            if (input.Count == 0) throw new PerkException("--prompt: the prompt encodes to no tokens");
            var output = new GreedyGenerator(lm, tokenizer).Generate(input, n);
            string decoded = tokenizer.Decode(output, skipSpecial: true);
            if (parse.GetValue(json))
            {
                var line = new JsonObject
                {
                    ["prompt_ids"] = new JsonArray(input.Select(i => (JsonNode?)i).ToArray()),
                    ["output_ids"] = new JsonArray(output.Select(i => (JsonNode?)i).ToArray()),
                    ["text"] = decoded,
                };
                Console.WriteLine(line.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            else
            {
                Console.WriteLine(decoded);
                Console.Error.WriteLine($"generate: {input.Count} prompt tokens, {output.Length} new tokens");
            }
            return 0;
        });
        return cmd;
    }

    static IReadOnlyList<int> ParseIds(string s)
    {
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        var ids = new List<int>(parts.Length);
        foreach (var p in parts)
            ids.Add(int.TryParse(p, out var id) && id >= 0
                ? id
                : throw new PerkException($"--prompt-ids: \"{p}\" is not a token id (expected comma-separated integers >= 0, e.g. 1,2,3)"));
        return ids;
    }
}
