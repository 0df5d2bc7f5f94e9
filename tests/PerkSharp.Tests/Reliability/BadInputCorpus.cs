using System.Text;
using System.Text.Json.Nodes;
using static PerkSharp.Tests.Reliability.BadInputFixtures;

namespace PerkSharp.Tests.Reliability;

/// <summary>
/// One bad input: <see cref="Setup"/> writes files into a fresh folder and returns the `perk` arguments;
/// the CLI must fail with one stderr line containing <see cref="Fragment"/>, and <see cref="Output"/> (relative to the
/// folder) must not exist afterwards.
/// </summary>
/// <see cref="Relaxed"/>: long-running commands may print progress and info lines before the error; the error must
/// still be the only "error:" line and the last one.
public sealed record BadInput(string Name, Func<string, string[]> Setup, string Fragment, string? Output = null, bool Relaxed = false);

/// <summary>The bad-input corpus. Names are stable test-case ids.</summary>
public static class BadInputCorpus
{
    const string W = "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";

    static string[] CheckModel(string d) => new[] { "check", "model", d };
    static string[] Gen(string model, params string[] rest) => new[] { "generate", "--model", model }.Concat(rest).ToArray();
    static string Sub(string d, string name) => Path.Combine(d, name);

    public static readonly IReadOnlyList<BadInput> All = new List<BadInput>
    {
        // --- safetensors, through a model folder -------------------------------------------------------------------
        new("st-header-length-beyond-file", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), Safetensors("{" + W + "}", 16, declaredLength: 1 << 20))), "exceeds the file size"),
        new("st-file-4-bytes", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), new byte[] { 1, 2, 3, 4 })), "too short"),
        new("st-empty-file", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), Array.Empty<byte>())), "too short"),
        new("st-truncated-json", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), Safetensors("{" + W, 16))), "not valid JSON"),
        new("st-header-invalid-utf8", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), InvalidUtf8Header())), "not valid UTF-8"),
        new("st-unknown-dtype", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), Safetensors("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2))), "unsupported dtype \"F8_E4M3\""),
        new("st-shape-vs-span", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16))), "needs 16 bytes but data_offsets span 12"),
        new("st-offsets-outside-data", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16))), "outside the data block"),
        new("st-overlapping-tensors", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12))), "overlap tensor \"a\""),
        new("st-negative-dimension", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,2],\"data_offsets\":[0,16]}}", 16))), "negative dimension"),
        new("st-weights-is-a-folder", d => { var m = ModelFolder(Sub(d, "m"), Gpt2Config(), null); Directory.CreateDirectory(Sub(m, "model.safetensors")); return CheckModel(m); }, "is a folder"),
        new("st-no-weights", d => CheckModel(ModelFolder(Sub(d, "m"), Gpt2Config(), null)), "no model.safetensors"),
        new("st-index-invalid-json", d => CheckModel(ShardedModel(Sub(d, "m"), "{\"weight_map\": {")), "invalid JSON"),
        new("st-index-missing-shard", d => CheckModel(ShardedModel(Sub(d, "m"), "{\"weight_map\":{\"w\":\"model-00001-of-00002.safetensors\"}}")), "shard \"model-00001-of-00002.safetensors\""),
        new("st-index-tensor-not-in-shard", d => CheckModel(ShardedModel(Sub(d, "m"), "{\"weight_map\":{\"w\":\"a.safetensors\",\"v\":\"a.safetensors\"}}", ("a.safetensors", ValidSafetensors()))), "tensor \"v\" is mapped to a.safetensors"),
        new("st-index-path-escape", d => CheckModel(ShardedModel(Sub(d, "m"), "{\"weight_map\":{\"w\":\"../a.safetensors\"}}")), "not a file in the model folder"),
        new("st-standalone-dtype-size", d => { var p = Sub(d, "x.safetensors"); File.WriteAllBytes(p, Safetensors("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16)); return new[] { "check", "safetensors", p }; }, "needs 8 bytes"),

        // --- checkpoint vs model (strict mapping) ---------------------------------------------------------------------
        new("ckpt-config-has-more-layers", d => CheckModel(Edit(RealModel(Sub(d, "m")), c => c["n_layer"] = 3)), "missing tensor \"transformer.h.2."),
        new("ckpt-config-has-fewer-layers", d => CheckModel(Edit(RealModel(Sub(d, "m")), c => c["n_layer"] = 1)), "unexpected tensor \"transformer.h.1."),
        new("ckpt-hidden-size-differs", d => CheckModel(WeightsFrom(RealModel(Sub(d, "m")), With(Gpt2Config(), c => c["n_embd"] = 16))), "expected [257, 32]"),
        new("ckpt-vocab-differs", d => CheckModel(WeightsFrom(RealModel(Sub(d, "m")), With(Gpt2Config(), c => c["vocab_size"] = 300))), "has shape [300, 32], expected [257, 32]"),
        new("ckpt-architecture-differs", d => CheckModel(WeightsFrom(RealModel(Sub(d, "m")), Qwen2Config())), "missing tensor \"transformer."),
        new("ckpt-positions-differ", d => CheckModel(Edit(RealModel(Sub(d, "m")), c => c["n_positions"] = 128)), "expected [128, 32]"),

        // --- tokenizer files ------------------------------------------------------------------------------------------
        new("tok-vocab-invalid-json", d => CheckModel(Put(NoTokenizerJson(RealModel(Sub(d, "m"))), "vocab.json", "{\"a\": 1,")), "vocab.json: invalid JSON"),
        new("tok-vocab-not-an-object", d => CheckModel(Put(NoTokenizerJson(RealModel(Sub(d, "m"))), "vocab.json", "[\"a\", \"b\"]")), "vocab.json: expected a JSON object"),
        new("tok-vocab-negative-id", d => CheckModel(Put(NoTokenizerJson(RealModel(Sub(d, "m"))), "vocab.json", "{\"a\": -1, \"<|endoftext|>\": 0}")), "non-negative integer id"),
        new("tok-merges-without-vocab", d => { var m = NoTokenizerJson(RealModel(Sub(d, "m"))); File.Delete(Sub(m, "vocab.json")); return CheckModel(m); }, "merges.txt without vocab.json"),
        new("tok-merge-line-three-tokens", d => CheckModel(Put(NoTokenizerJson(RealModel(Sub(d, "m"))), "merges.txt", "#version: 0.2\na b c\n")), "a merge must be two tokens"),
        new("tok-no-tokenizer-files", d => { var m = NoTokenizerJson(RealModel(Sub(d, "m"))); File.Delete(Sub(m, "vocab.json")); File.Delete(Sub(m, "merges.txt")); return CheckModel(m); }, "no tokenizer files"),
        new("tok-json-invalid", d => CheckModel(Put(RealModel(Sub(d, "m")), "tokenizer.json", "{\"model\": {")), "tokenizer.json: invalid JSON"),
        new("tok-json-unigram", d => CheckModel(Put(RealModel(Sub(d, "m")), "tokenizer.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}")), "\"Unigram\" is not supported"),
        new("tok-larger-than-model-vocab", d => CheckModel(Edit(RealModel(Sub(d, "m")), c => { c["vocab_size"] = 200; c.Remove("eos_token_id"); })), "vocab_size is 200"),
        new("tok-config-eos-is-a-number", d => CheckModel(Put(RealModel(Sub(d, "m")), "tokenizer_config.json", "{\"eos_token\": 5}")), "\"eos_token\" must be a string"),

        // --- config.json ----------------------------------------------------------------------------------------
        new("cfg-missing", d => CheckModel(ModelFolder(Sub(d, "m"), null, ValidSafetensors())), "config.json not found"),
        new("cfg-invalid-json", d => CheckModel(ModelWithConfigText(Sub(d, "m"), "{\"model_type\": \"gpt2\",")), "invalid JSON"),
        new("cfg-not-an-object", d => CheckModel(ModelWithConfigText(Sub(d, "m"), "[1, 2]")), "expected a JSON object"),
        new("cfg-empty-file", d => CheckModel(ModelWithConfigText(Sub(d, "m"), "")), "invalid JSON"),
        new("cfg-unsupported-model-type", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["model_type"] = "bert")), "model_type \"bert\" is not supported"),
        new("cfg-missing-model-type", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c.Remove("model_type"))), "missing \"model_type\""),
        new("cfg-misspelt-key", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => { c.Remove("n_layer"); c["n_layers"] = 2; })), "did you mean \"n_layer\""),
        new("cfg-string-for-int", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["n_layer"] = "two")), "\"n_layer\" must be an integer"),
        new("cfg-fractional-int", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["vocab_size"] = 60.5)), "\"vocab_size\" must be an integer"),
        new("cfg-zero-heads", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["n_head"] = 0)), "must be >= 1"),
        new("cfg-heads-not-dividing", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["n_head"] = 5)), "divisible by n_head"),
        new("cfg-eos-outside-vocab", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["eos_token_id"] = 257)), "\"eos_token_id\" 257 is outside the vocabulary (size 257)"),
        new("cfg-bool-as-string", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["tie_word_embeddings"] = "yes")), "must be true or false"),
        new("cfg-odd-rotary-head-dim", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["head_dim"] = 7, Qwen2Config())), "must be even"),
        new("cfg-kv-heads-not-dividing", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["num_key_value_heads"] = 3, Qwen2Config())), "divisible by num_key_value_heads"),
        new("cfg-rope-scaling-unsupported", d => CheckModel(ModelWithConfig(Sub(d, "m"), c => c["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 }, Qwen2Config())), "rope_scaling type \"yarn\""),
        new("cfg-is-a-folder", d => { var m = ModelFolder(Sub(d, "m"), null, ValidSafetensors()); Directory.CreateDirectory(Sub(m, "config.json")); return CheckModel(m); }, "is a folder"),
        new("model-folder-missing", d => CheckModel(Sub(d, "nope")), "model folder not found"),
        new("model-init-force-onto-other-files", d => { Directory.CreateDirectory(Sub(d, "m")); File.WriteAllText(Sub(d, "m/keep.txt"), "x"); return new[] { "init-model", "--arch", "gpt2", "--hidden", "16", "--heads", "2", "--out", Sub(d, "m"), "--force" }; }, "not empty and not a model (it holds \"keep.txt\")"),
        new("model-pretrain-out-holds-other-files", d => { Directory.CreateDirectory(Sub(d, "m")); File.WriteAllText(Sub(d, "m/notes.txt"), "x"); return new[] { "pretrain", "--out", Sub(d, "m"), "--steps", "1", "--prose", "10", "--drills", "0" }; }, "not empty and not a model (it holds \"notes.txt\")"),
        new("model-folder-is-a-file", d => { File.WriteAllText(Sub(d, "f"), "x"); return CheckModel(Sub(d, "f")); }, "is a file"),

        // --- perk generate: token ids, positions, folders; global options --------------------------------------------
        new("gen-id-equal-to-vocab-size", d => Gen(RealModel(Sub(d, "m")), "--prompt-ids", "1,257"), "token id 257 is outside the vocabulary (size 257)"),
        new("gen-id-not-a-number", d => Gen(RealModel(Sub(d, "m")), "--prompt-ids", "1,x,3"), "\"x\" is not a token id"),
        new("gen-prompt-beyond-positions", d => Gen(RealModel(Sub(d, "m")), "--prompt-ids", string.Join(",", Enumerable.Repeat(7, 60)), "--max-new-tokens", "10"), "exceed n_positions (64)"),
        new("gen-text-prompt-beyond-positions", d => Gen(RealModel(Sub(d, "m")), "--prompt", new string('a', 65), "--max-new-tokens", "1"), "exceed n_positions (64)"),
        new("gen-model-folder-missing", d => Gen(Sub(d, "none"), "--prompt-ids", "1"), "model folder not found"),
        new("gen-model-folder-empty", d => { Directory.CreateDirectory(Sub(d, "m")); return Gen(Sub(d, "m"), "--prompt-ids", "1"); }, "config.json not found"),
        new("gen-weights-truncated", d => { var m = RealModel(Sub(d, "m")); var p = Sub(m, "model.safetensors"); File.WriteAllBytes(p, File.ReadAllBytes(p)[..200]); return Gen(m, "--prompt-ids", "1"); }, "exceeds the file size"),
        new("gen-weights-wrong-layers", d => Gen(Edit(RealModel(Sub(d, "m")), c => c["n_layer"] = 3), "--prompt-ids", "1"), "missing tensor"),
        new("opt-threads-absurd", d => new[] { "info", "--threads", "100000" }, "--threads 100000"),
        new("opt-threads-negative", d => new[] { "info", "--threads", "-2" }, "--threads -2"),

        // --- perk train / encode / ask / eval on a trained run (progress and info lines may precede the error) ------
        new("run-resume-without-checkpoint", d => Train(d, "--resume", $"output_dir={Sub(d, "fresh")}"), "nothing to resume", Relaxed: true),
        new("run-existing-run-without-resume", d => Train(d), "already holds a run", Relaxed: true),
        new("run-resume-lora-rank-differs", d => Train(d, "--resume", "lora_rank=4"), "--resume with a changed recipe (lora_rank: 2 -> 4)"),
        new("run-resume-inner-steps-differ", d => Train(d, "--resume", "n_inner_iter=3"), "--resume with a changed recipe (n_inner_iter: 2 -> 3)"),
        new("run-resume-seed-differs", d => Train(d, "--resume", "seed=8"), "--resume with a changed recipe (seed: 7 -> 8)"),
        new("run-fresh-into-another-runs-folder", d => { Trained(d); Directory.CreateDirectory(Sub(d, "x")); File.Copy(Sub(d, "run/config.yaml"), Sub(d, "x/config.yaml")); return Train(d, "seed=8", $"output_dir={Sub(d, "x")}"); }, "already holds another run (seed: 7 -> 8)", Output: "x/metrics.jsonl"),
        new("run-folder-in-use", d => { Trained(d); File.WriteAllText(Sub(d, "run/" + PerkSharp.IO.RunLock.FileName), $"{{\"pid\":{Environment.ProcessId},\"host\":\"{Environment.MachineName}\",\"since\":\"now\"}}"); return Train(d, "--resume"); }, "another perk train writes this run folder (pid "),
        new("run-folder-in-use-elsewhere", d => { Trained(d); File.WriteAllText(Sub(d, "run/" + PerkSharp.IO.RunLock.FileName), "{\"pid\":1,\"host\":\"other-host\",\"since\":\"now\"}"); return Train(d, "--resume"); }, "(pid 1 on host other-host since now)"),
        new("run-folder-lock-unreadable", d => { Trained(d); File.WriteAllText(Sub(d, "run/" + PerkSharp.IO.RunLock.FileName), ""); return Train(d, "--resume"); }, ".perk-train.lock is unreadable; delete it if no perk train is running there"),
        new("run-stop-after-zero", d => Train(d, "--resume", "--stop-after", "0"), "--stop-after 0: expected a step number >= 1"),
        new("run-resume-state-truncated", d => { var a = Train(d, "--resume"); Cut(Sub(d, "run/checkpoints/last/trainer_state.json"), 10); return a; }, "trainer_state.json: invalid JSON", Relaxed: true),
        new("run-resume-meta-truncated", d => { var a = Train(d, "--resume"); Cut(Sub(d, "run/checkpoints/last/perk_meta.safetensors"), 100); return a; }, "exceeds the file size", Relaxed: true),
        new("run-train-data-missing", d => Train(d, $"data_dir={Sub(d, "none")}", $"output_dir={Sub(d, "x")}"), "train.jsonl: file not found", Output: "x/checkpoints", Relaxed: true),
        new("run-context-beyond-positions", d => { Long(Sub(d, "long/babilong/qa1_1k/train.jsonl")); return Train(d, $"data_dir={Sub(d, "long")}", $"output_dir={Sub(d, "x")}"); }, "exceed the model's 256 positions", Output: "x/checkpoints", Relaxed: true),
        new("run-resume-optimizer-garbage", d => { var a = Train(d, "--resume"); File.WriteAllBytes(Sub(d, "run/checkpoints/last/optimizer.bin"), Enumerable.Range(0, 300).Select(i => (byte)(i * 37)).ToArray()); return a; }, "optimizer.bin: unreadable optimizer state", Relaxed: true),
        new("run-resume-optimizer-empty", d => { var a = Train(d, "--resume"); File.WriteAllBytes(Sub(d, "run/checkpoints/last/optimizer.bin"), Array.Empty<byte>()); return a; }, "optimizer.bin: unreadable optimizer state", Relaxed: true),
        new("run-checkpoint-info-broken", d => { Trained(d); File.WriteAllText(Sub(d, "run/checkpoints/last/perk_checkpoint.json"), "{"); return Encode(d, "doc.txt"); }, "perk_checkpoint.json: invalid JSON", Output: "m2", Relaxed: true),
        new("run-checkpoint-base-not-a-string", d => { Trained(d); File.WriteAllText(Sub(d, "run/checkpoints/last/perk_checkpoint.json"), "{\"base_model\": 5}"); return Encode(d, "doc.txt"); }, "\"base_model\" must name the base model folder", Output: "m2", Relaxed: true),
        new("run-encode-doc-invalid-utf8", d => { Trained(d); File.WriteAllBytes(Sub(d, "bad.txt"), new byte[] { 0x41, 0xC3, 0x28, 0x0A }); return Encode(d, "bad.txt"); }, "not valid UTF-8", Output: "m2", Relaxed: true),
        new("run-encode-doc-empty", d => { Trained(d); File.WriteAllText(Sub(d, "empty.txt"), " \n\n"); return Encode(d, "empty.txt"); }, "the document is empty", Output: "m2", Relaxed: true),
        // A document longer than the window is cut into windows (it encodes); a segment size beyond it is refused up front.
        new("run-encode-segment-tokens-beyond-positions", d => { Trained(d); return Encode(d, "doc.txt").Concat(new[] { "--segment-tokens", "257" }).ToArray(); }, "--segment-tokens 257: larger than the model's 256 positions", Output: "m2"),
        new("run-ask-segment-tokens-beyond-positions", d => { Trained(d); return new[] { "ask", "--checkpoint", Sub(d, "run"), "--document", Sub(d, "doc.txt"), "--segment-tokens", "1000", "Where?", "--threads", "1" }; }, "--segment-tokens 1000: larger than the model's 256 positions"),
        new("run-encode-doc-is-a-folder", d => { Trained(d); return Encode(d, "data"); }, "data", Output: "m2", Relaxed: true),
        new("run-ask-memory-rank-differs", d => { Trained(d); var p = Sub(d, "mem/adapter_config.json"); File.WriteAllText(p, File.ReadAllText(p).Replace("\"r\": 2", "\"r\": 4")); return Ask(d); }, "\"r\" is 4", Relaxed: true),
        new("run-ask-memory-weights-truncated", d => { Trained(d); Cut(Sub(d, "mem/adapter_model.safetensors"), 50); return Ask(d); }, "exceeds the file size", Relaxed: true),
        new("run-ask-memory-config-broken", d => { Trained(d); File.WriteAllText(Sub(d, "mem/adapter_config.json"), "[1,"); return Ask(d); }, "adapter_config.json: invalid JSON", Relaxed: true),
        // An --out that is not new, empty or an artefact of the same kind is refused before any work (one line).
        new("run-encode-out-holds-the-document", d => { Trained(d); Directory.CreateDirectory(Sub(d, "docs")); File.Copy(Sub(d, "doc.txt"), Sub(d, "docs/doc.txt")); return EncodeTo(d, "docs/doc.txt", "docs"); }, "not empty and not a memory (it holds \"doc.txt\")"),
        new("run-encode-out-is-the-run", d => { Trained(d); return EncodeTo(d, "doc.txt", "run", "--force"); }, "not empty and not a memory (it holds \"checkpoints/\")"),
        new("run-encode-out-is-a-file", d => { Trained(d); return EncodeTo(d, "doc.txt", "doc.txt"); }, "is a file, not a folder"),
        new("run-encode-out-memory-without-force", d => { Trained(d); return EncodeTo(d, "doc.txt", "mem"); }, "already holds a memory (use --force to replace it)"),
        new("run-encode-out-name-too-long", d => { Trained(d); return EncodeTo(d, "doc.txt", new string('m', 256)); }, "is 256 bytes long"),
        new("run-eval-out-is-a-file", d => { Trained(d); return EvalTo(d, "doc.txt"); }, "is a file, not a folder"),
        new("run-eval-out-holds-other-files", d => { Trained(d); return EvalTo(d, "data", "--force"); }, "not empty and not an evaluation (it holds \"babilong/\")"),
        new("run-eval-max-negative", d => { Trained(d); return EvalTo(d, "e", "--max", "-1"); }, "--max -1: expected 0 (all rows) or a positive count", Output: "e"),
        // Memory budgets and resumed evaluations: refused before the model loads.
        new("run-encode-max-memory-not-a-size", d => { Trained(d); return EncodeTo(d, "doc.txt", "m2", "--max-memory", "lots"); }, "--max-memory lots: expected a size such as 4G", Output: "m2"),
        new("run-encode-max-memory-below-the-model", d => { Trained(d); return EncodeTo(d, "doc.txt", "m2", "--max-memory", "100M"); }, "even one segment at a time", Output: "m2"),
        new("run-eval-max-memory-below-the-model", d => { Trained(d); return EvalTo(d, "e", "--max-memory", "1M"); }, "even one segment at a time", Output: "e"),
        new("run-eval-resume-and-force", d => { Trained(d); return EvalTo(d, "e", "--resume", "--force"); }, "give --resume (continue an evaluation) or --force", Output: "e"),
        new("run-eval-resume-other-method", d => { Trained(d); var e = EvalTo(d, "e", "--max", "2"); Assert.Equal(0, Cli.CliRunner.Run(e).ExitCode); File.Delete(Sub(d, "e/metrics.json")); return EvalTo(d, "e", "--max", "2", "--resume", "--method", "ttft"); }, "was evaluated with other settings (method: \"perk\", now \"ttft\")"),
        new("run-eval-checkpoint-not-a-run", d => { Trained(d); return new[] { "eval", "--checkpoint", Sub(d, "data"), "--data", Sub(d, "data") }; }, "neither a checkpoint folder", Relaxed: true),

        // --- YAML train configs ------------------------------------------------------------------------------------
        new("yaml-unknown-key", d => new[] { "check", "config", Yaml(d, "lora_rnak: 8\n") }, "unknown key \"lora_rnak\" (did you mean \"lora_rank\"?)"),
        new("yaml-rank-zero", d => new[] { "check", "config", Yaml(d, "lora_rank: 0\n") }, "\"lora_rank\" must be between 1"),
        new("yaml-inner-lr-negative", d => new[] { "check", "config", Yaml(d, "inner_lr: -0.1\n") }, "\"inner_lr\" must be > 0"),
        new("yaml-outer-lr-zero", d => new[] { "check", "config", Yaml(d, "learning_rate: 0\n") }, "\"learning_rate\" must be > 0"),
        new("yaml-steps-zero", d => new[] { "check", "config", Yaml(d, "n_inner_iter: 0\n") }, "\"n_inner_iter\" must be between 1"),
        new("yaml-epochs-zero", d => new[] { "check", "config", Yaml(d, "num_train_epochs: 0\n") }, "\"num_train_epochs\" must be between 1"),
        new("yaml-int-as-word", d => new[] { "check", "config", Yaml(d, "n_inner_iter: four\n") }, "must be an integer"),
        new("yaml-nan-rate", d => new[] { "check", "config", Yaml(d, "inner_lr: .nan\n") }, "must be a finite number"),
        new("yaml-bool-as-word", d => new[] { "check", "config", Yaml(d, "bf16: maybe\n") }, "must be true or false"),
        new("yaml-unknown-choice", d => new[] { "check", "config", Yaml(d, "inner_opt: rmsprop\n") }, "must be one of adamw, adam, sgd"),
        new("yaml-list-value", d => new[] { "check", "config", Yaml(d, "lora_rank: [8, 16]\n") }, "must be a single value"),
        new("yaml-broken-syntax", d => new[] { "check", "config", Yaml(d, "lora_rank: 8\n  inner_lr: [1,\n") }, "invalid YAML"),
        new("yaml-top-level-list", d => new[] { "check", "config", Yaml(d, "- lora_rank\n- 8\n") }, "expected a mapping"),
        new("yaml-unroll-beyond-steps", d => new[] { "check", "config", Yaml(d, "n_inner_iter: 2\nunroll_start: 3\n") }, "\"unroll_start\" (3) must be <= \"n_inner_iter\" (2)"),
        new("yaml-invalid-utf8", d => { var p = Yaml(d, ""); File.WriteAllBytes(p, new byte[] { (byte)'a', (byte)':', (byte)' ', 0xC3, 0x28, (byte)'\n' }); return new[] { "check", "config", p }; }, "not valid UTF-8"),
        new("yaml-missing-file", d => new[] { "check", "config", Sub(d, "none.yaml") }, "config file not found"),
        new("yaml-is-a-folder", d => new[] { "check", "config", d }, "is a folder"),
        new("yaml-bad-override-type", d => new[] { "check", "config", Yaml(d, "lora_rank: 8\n"), "lora_rank=abc" }, "override lora_rank: \"lora_rank\" must be an integer"),
        new("yaml-override-without-equals", d => new[] { "check", "config", Yaml(d, "lora_rank: 8\n"), "lora_rank" }, "expected key=value"),

        // --- data JSONL -----------------------------------------------------------------------------------------
        new("data-invalid-json-line-3", d => new[] { "check", "data", Jsonl(d, GoodLine, GoodLine, "{\"context\": [") }, "data.jsonl:3: invalid JSON"),
        new("data-missing-question", d => new[] { "check", "data", Jsonl(d, GoodLine, "{\"context\":[\"a\"],\"answer\":\"b\"}") }, "data.jsonl:2: missing field \"question\""),
        new("data-missing-context", d => new[] { "check", "data", Jsonl(d, "{\"question\":\"q\",\"answer\":\"a\"}") }, "data.jsonl:1: missing field \"context\""),
        new("data-empty-context", d => new[] { "check", "data", Jsonl(d, "{\"context\":[],\"question\":\"q\",\"answer\":\"a\"}") }, "data.jsonl:1: empty context"),
        new("data-blank-segments", d => new[] { "check", "data", Jsonl(d, GoodLine, "{\"context\":[\"  \", \"\"],\"question\":\"q\",\"answer\":\"a\"}") }, "data.jsonl:2: empty context"),
        new("data-context-not-strings", d => new[] { "check", "data", Jsonl(d, "{\"context\":[1,2],\"question\":\"q\",\"answer\":\"a\"}") }, "context[0] must be a string"),
        new("data-line-not-object", d => new[] { "check", "data", Jsonl(d, GoodLine, "[1,2]") }, "data.jsonl:2: expected a JSON object"),
        new("data-invalid-utf8-line-2", d => { var p = Jsonl(d, GoodLine); File.AppendAllText(p, ""); using (var f = File.Open(p, FileMode.Append)) f.Write(Encoding.UTF8.GetBytes("{\"context\":[\"caf").Concat(new byte[] { 0xE9 }).Concat(Encoding.UTF8.GetBytes("\"],\"question\":\"q\",\"answer\":\"a\"}\n")).ToArray()); return new[] { "check", "data", p }; }, "data.jsonl:2: invalid UTF-8"),
        new("data-empty-file", d => { var p = Sub(d, "empty.jsonl"); File.WriteAllText(p, ""); return new[] { "check", "data", p }; }, "no examples"),
        new("data-missing-path", d => new[] { "data", "stats", Sub(d, "nothing-here") }, "no such file or folder"),
        new("data-folder-without-jsonl", d => { File.WriteAllText(Sub(d, "notes.txt"), "hi"); return new[] { "data", "stats", d }; }, "no data files found"),
        // Links inside a data folder are never followed: a loop ends, data reached only through a link is not there.
        new("data-only-link-loops", d => { Directory.CreateDirectory(Sub(d, "D/a")); Directory.CreateSymbolicLink(Sub(d, "D/a/up"), ".."); Directory.CreateSymbolicLink(Sub(d, "D/self"), "."); return new[] { "data", "stats", Sub(d, "D") }; }, "no data files found"),
        new("data-only-a-link-out", d => { var p = Jsonl(d, GoodLine); Directory.CreateDirectory(Sub(d, "D")); File.CreateSymbolicLink(Sub(d, "D/data.jsonl"), p); return new[] { "check", "data", Sub(d, "D") }; }, "no data files found"),
        new("data-official-missing-answer", d => { var p = Sub(d, Path.Combine("babilong", "qa1_1k", "test.jsonl")); Directory.CreateDirectory(Path.GetDirectoryName(p)!); File.WriteAllText(p, "{\"context\":[\"a\"],\"question\":\"q\"}\n"); return new[] { "data", "stats", d }; }, "test.jsonl:1: missing field \"answer\""),

        // --- outputs: a failing command leaves no partial output ---------------------------------------------------
        new("generate-haystack-missing", d => new[] { "data", "generate", "--task", "babilong", "--count", "2", "--length", "1k", "--haystack", Sub(d, "no-hay"), "--out", Sub(d, "out") }, "no-hay", Output: "out"),
        new("generate-unknown-task", d => new[] { "data", "generate", "--task", "squad", "--count", "2", "--out", Sub(d, "out") }, "--task squad", Output: "out"),
        new("generate-out-file-exists", d => { Directory.CreateDirectory(Sub(d, "out/babilong/qa1_1k")); File.WriteAllText(Sub(d, "out/babilong/qa1_1k/test.jsonl"), "mine\n"); return new[] { "data", "generate", "--task", "babilong", "--count", "2", "--length", "1k", "--out", Sub(d, "out") }; }, "test.jsonl: already exists (use --force to replace it)"),
        new("generate-out-is-a-file", d => { File.WriteAllText(Sub(d, "out"), "mine"); return new[] { "data", "generate", "--task", "babilong", "--count", "2", "--length", "1k", "--out", Sub(d, "out") }; }, "is a file, not a folder"),
        new("report-out-report-exists", d => { Directory.CreateDirectory(Sub(d, "r")); File.WriteAllText(Sub(d, "r/report.md"), "mine"); return new[] { "report", Sub(d, "r") }; }, "report.md: already exists (use --force to replace it)"),
        new("generate-zero-count", d => new[] { "data", "generate", "--task", "babilong", "--count", "0", "--out", Sub(d, "out") }, "--count 0", Output: "out"),
    };

    static string Trained(string d) => TrainedRunFixture.CopyTo(d);
    static string[] Train(string d, params string[] rest) =>
        new[] { "train", "--config", Path.Combine(Trained(d), "train.yaml"), "--threads", "1" }.Concat(rest).ToArray();
    static string[] Encode(string d, string doc) =>
        new[] { "encode", "--checkpoint", Sub(d, "run"), "--document", Sub(d, doc), "--out", Sub(d, "m2"), "--threads", "1" };
    static string[] EncodeTo(string d, string doc, string outDir, params string[] rest) =>
        new[] { "encode", "--checkpoint", Sub(d, "run"), "--document", Sub(d, doc), "--out", Sub(d, outDir), "--threads", "1" }.Concat(rest).ToArray();
    static string[] EvalTo(string d, string outDir, params string[] rest) =>
        new[] { "eval", "--checkpoint", Sub(d, "run"), "--data", Sub(d, "data"), "--split", "train", "--out", Sub(d, outDir), "--threads", "1" }.Concat(rest).ToArray();
    static string[] Ask(string d) => new[] { "ask", "--checkpoint", Sub(d, "run"), "--memory", Sub(d, "mem"), "Where is Mary?", "--threads", "1" };
    static void Cut(string path, int bytes) => File.WriteAllBytes(path, File.ReadAllBytes(path)[..bytes]);
    static void Long(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, new JsonObject { ["context"] = new JsonArray(new string('a', 300) + "."), ["question"] = "Where?", ["answer"] = "here" }.ToJsonString() + "\n");
    }

    /// <summary>Rewrites config.json of <paramref name="dir"/> with <paramref name="edit"/> applied.</summary>
    static string Edit(string dir, Action<JsonObject> edit)
    {
        var c = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        edit(c);
        File.WriteAllText(Path.Combine(dir, "config.json"), c.ToJsonString());
        return dir;
    }

    /// <summary>The engine writes tokenizer.json beside vocab.json/merges.txt and prefers it; drop it to reach the BPE files.</summary>
    static string NoTokenizerJson(string dir) { File.Delete(Path.Combine(dir, "tokenizer.json")); return dir; }

    static JsonObject With(JsonObject c, Action<JsonObject> edit) { edit(c); return c; }

    static string Put(string dir, string file, string text) { File.WriteAllText(Path.Combine(dir, file), text); return dir; }

    /// <summary>A header that is JSON-shaped but holds a byte sequence that is not UTF-8.</summary>
    static byte[] InvalidUtf8Header()
    {
        var b = Safetensors("{\"w\xE9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        int i = Array.IndexOf(b, (byte)'w', 8);
        b[i + 1] = 0xFF;                                   // replace the first byte of 'é' (2 bytes in UTF-8) with an invalid one
        return b;
    }
}
