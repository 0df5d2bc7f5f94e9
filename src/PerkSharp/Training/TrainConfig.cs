namespace PerkSharp.Training;

/// <summary>
/// One meta-training / evaluation configuration, keyed exactly like the official YAML files
/// (configs/experiment/meta_train.yaml and meta_test.yaml, docs/DESIGN.md). Defaults are the official
/// meta_train values; keys marked "ours" are PerkSharp additions (run folders, checkpoints, CPU budgets).
/// Loading, overrides and validation live in <see cref="TrainConfigLoader"/>; every property here is one YAML key.
/// </summary>
public sealed class TrainConfig
{
    [Key("method", "what `perk train` trains: PERK meta-training or the FT-ICR baseline (ours)", OneOf = new[] { "perk", "ft_icr" })]
    public string Method { get; set; } = "perk";

    // --- model and adapter ------------------------------------------------------------------------------------
    [Key("model_name_or_path", "HF-format model folder (config.json + safetensors + tokenizer)")]
    public string ModelNameOrPath { get; set; } = "Qwen/Qwen2.5-0.5B";

    [Key("peft_lora", "must be true: PERK adapts LoRA only")] public bool PeftLora { get; set; } = true;
    [Key("lora_rank", "LoRA rank r", Min = 1, Max = 65536)] public int LoraRank { get; set; } = 256;
    [Key("lora_alpha", "LoRA alpha", Positive = true)] public double LoraAlpha { get; set; } = 16;
    [Key("lora_dropout", "LoRA input dropout", Min = 0, Max = 0.999)] public double LoraDropout { get; set; } = 0.1;
    [Key("use_rslora", "scale alpha/sqrt(r) (official) instead of alpha/r (ours)")] public bool UseRslora { get; set; } = true;
    [Key("lora_top_k_layers", "adapt only the top k layers, 0 = all (ours)", Min = 0)] public int LoraTopKLayers { get; set; }
    [Key("bf16", "bfloat16 base weights (LoRA stays float32)")] public bool Bf16 { get; set; }
    [Key("attn_implementation", "accepted for compatibility; training always uses explicit attention", OneOf = new[] { "eager", "sdpa", "flash_attention_2" })]
    public string AttnImplementation { get; set; } = "eager";

    // --- inner loop (test-time encoding) ----------------------------------------------------------------------
    [Key("n_inner_iter", "inner steps N", Min = 1, Max = 1000)] public int NInnerIter { get; set; } = 4;
    [Key("inner_lr", "inner learning rate (LSLR init when dyna_lr)", Positive = true, Max = 10)] public double InnerLr { get; set; } = 5e-5;
    [Key("inner_opt", "inner optimizer", OneOf = new[] { "adamw", "adam", "sgd" })] public string InnerOpt { get; set; } = "adamw";
    [Key("inner_funct", "inner loop at meta-train time", OneOf = new[] { "default", "truncated" })] public string InnerFunct { get; set; } = "truncated";
    [Key("unroll_start", "truncated: inner steps before this one have detached gradients", Min = 0)] public int UnrollStart { get; set; } = 2;
    [Key("first_order", "default loop: detach every inner gradient")] public bool FirstOrder { get; set; }
    [Key("dyna_lr", "learned per-tensor per-step rates (LSLR); false = fixed inner_lr")] public bool DynaLr { get; set; } = true;
    [Key("weighted_loss", "learned token weights; false = uniform")] public bool WeightedLoss { get; set; } = true;
    [Key("weight_non_linearity", "token-weight non-linearity", OneOf = new[] { "softplus", "sigmoid", "exp", "gelu" })]
    public string WeightNonLinearity { get; set; } = "softplus";
    [Key("weight_normalize", "rescale token weights to sum to the token count")] public bool WeightNormalize { get; set; }
    [Key("weight_fuse", "unused by the official code; accepted")] public string WeightFuse { get; set; } = "concat";
    [Key("weight_q_pool", "unused by the official code; accepted")] public string WeightQPool { get; set; } = "cls";
    [Key("inner_grad_accum", "micro-batches per inner step at test time", Min = 1, Max = 4096)] public int InnerGradAccum { get; set; } = 1;
    [Key("packing", "pack segments into one row (block-diagonal attention)")] public bool Packing { get; set; } = true;

    // --- outer loop (meta-training) ---------------------------------------------------------------------------
    [Key("learning_rate", "outer AdamW learning rate", Positive = true, Max = 10)] public double LearningRate { get; set; } = 1e-5;
    [Key("weight_decay", "outer (and inner) AdamW weight decay", Min = 0, Max = 1)] public double WeightDecay { get; set; } = 0.01;
    [Key("adam_epsilon", "AdamW epsilon", Positive = true, Max = 1)] public double AdamEpsilon { get; set; } = 1e-8;
    [Key("warmup_proportion", "share of steps in linear warmup", Min = 0, Max = 1)] public double WarmupProportion { get; set; } = 0.03;
    [Key("max_grad_norm", "global-norm clip of meta-gradients", Positive = true)] public double MaxGradNorm { get; set; } = 1.0;
    [Key("num_train_epochs", "epochs", Min = 1, Max = 100000)] public int NumTrainEpochs { get; set; } = 2;
    [Key("max_steps", "stop after this many meta-steps, 0 = no limit (ours)", Min = 0)] public int MaxSteps { get; set; }
    [Key("train_batch_size", "examples per meta-step, run as one batched computation (official: 1)", Min = 1, Max = 4096)] public int TrainBatchSize { get; set; } = 1;
    [Key("eval_batch_size", "examples encoded and answered together at evaluation (official: 1)", Min = 1, Max = 4096)] public int EvalBatchSize { get; set; } = 1;
    [Key("gradient_accumulation_steps", "outer accumulation (official: 1)", Min = 1, Max = 1)] public int GradientAccumulationSteps { get; set; } = 1;
    [Key("val_check_interval", "validate every this fraction of an epoch (<= 1) or every this many steps (> 1)", Positive = true)]
    public double ValCheckInterval { get; set; } = 0.5;
    [Key("patience", "early stopping: validations without val_loss improvement", Min = 1)] public int Patience { get; set; } = 10;
    [Key("monitor", "checkpoint metric", OneOf = new[] { "val_loss" })] public string Monitor { get; set; } = "val_loss";
    [Key("save_top_k", "best checkpoints kept (by val_loss), plus last (ours)", Min = 0, Max = 1000)] public int SaveTopK { get; set; } = 10;
    [Key("init_from", "start from this PERK run's (best) or checkpoint's meta-parameters, e.g. a 0k run before 1k (curriculum; ours)")]
    public string InitFrom { get; set; } = "";
    [Key("seed", "seed of data order, doc-id permutations and dropout")] public int Seed { get; set; } = 42;

    // --- data -------------------------------------------------------------------------------------------------
    // Names, subsets and layouts are the data registry's (Data/Registry); the loader checks dataset_name against it.
    [Key("dataset_name", "dataset family: babilong, student_records, longgorilla or jsonl (docs/DATA.md)")]
    public string DatasetName { get; set; } = "babilong";
    [Key("dataset_subset", "subset, e.g. qa1_1k (babilong), 1k/recall (student_records), huggingface_api_pre (longgorilla)")]
    public string DatasetSubset { get; set; } = "qa1_1k";
    [Key("data_dir", "root of the dataset folders, e.g. {dataset_name}/{dataset_subset}/{split}.jsonl")] public string DataDir { get; set; } = "data";
    [Key("max_train_data", "use at most this many training examples, 0 = all (ours)", Min = 0)] public int MaxTrainData { get; set; }
    [Key("max_eval_data", "evaluate at most this many rows per file, each once, 0 = all (official samples 3000 with replacement)", Min = 0)]
    public int MaxEvalData { get; set; } = 3000;
    [Key("val_em_examples", "validation examples decoded for EM at each check (ours)", Min = 0)] public int ValEmExamples { get; set; } = 32;
    [Key("max_val_data", "validation examples for val_loss, 0 = all (ours)", Min = 0)] public int MaxValData { get; set; } = 200;
    [Key("max_new_tokens", "greedy decoding budget", Min = 1, Max = 100000)] public int MaxNewTokens { get; set; } = 512;

    // --- run bookkeeping (official keys accepted for compatibility) -------------------------------------------
    [Key("output_dir", "run folder (ours); with do_train: false, the run to evaluate")] public string OutputDir { get; set; } = "runs/meta_train";
    [Key("do_train", "false: perk train evaluates the run in output_dir instead of training (needs load_checkpoint: true)")] public bool DoTrain { get; set; } = true;
    [Key("do_eval", "accepted for compatibility")] public bool DoEval { get; set; } = true;
    [Key("load_checkpoint", "with do_train: false, load the run in output_dir (best by val_loss, else last)")] public bool LoadCheckpoint { get; set; }
    [Key("use_liger_kernel", "accepted; no effect on CPU")] public bool UseLigerKernel { get; set; }
    [Key("n_gpu", "accepted; PerkSharp runs on CPU", Min = 0)] public int NGpu { get; set; } = 1;
    [Key("log_every", "metrics line every this many meta-steps (ours)", Min = 1)] public int LogEvery { get; set; } = 1;

    /// <summary>Number of inner steps whose gradients stay in the graph (T), per docs/DESIGN.md</summary>
    public int TruncationDepth => InnerFunct == "truncated" ? Math.Max(0, NInnerIter - UnrollStart) : FirstOrder ? 0 : NInnerIter;

    /// <summary>LoRA scale: alpha/sqrt(r) with rsLoRA (the official setting), else alpha/r.</summary>
    public double LoraScale => UseRslora ? LoraAlpha / Math.Sqrt(LoraRank) : LoraAlpha / LoraRank;

    /// <summary>A deep copy (configs are mutated by overrides).</summary>
    public TrainConfig Clone() => (TrainConfig)MemberwiseClone();
}

/// <summary>Marks a <see cref="TrainConfig"/> property as a YAML key with its documentation and range.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class KeyAttribute : Attribute
{
    public KeyAttribute(string name, string help) { Name = name; Help = help; }
    public string Name { get; }
    public string Help { get; }
    /// <summary>Inclusive lower bound for numbers (NaN = none).</summary>
    public double Min { get; set; } = double.NaN;
    /// <summary>Inclusive upper bound for numbers (NaN = none).</summary>
    public double Max { get; set; } = double.NaN;
    /// <summary>Numbers must be strictly greater than 0.</summary>
    public bool Positive { get; set; }
    /// <summary>Allowed values for strings (null = any).</summary>
    public string[]? OneOf { get; set; }
}
