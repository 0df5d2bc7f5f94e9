using PerkSharp.Adapters;
using PerkSharp.Models;
using PerkSharp.Tokenization;

namespace PerkSharp.MetaLearning;

/// <summary>
/// The small synthetic problem of <c>perk check-gradients</c>: three short segments and one question, rank-4 LoRA on
/// every default target, 3 inner AdamW steps with unroll_start 1 (so the truncated mode has both a detached and two
/// second-order steps), dropout off, an inner rate large enough that the inner loop moves the weights visibly.
/// </summary>
public static class GradientCheckProblem
{
    public static readonly string[] Segments =
    {
        "Mary moved to the bathroom.",
        "John went to the hallway.",
        "Sandra took the apple there.",
    };

    public const string Question = "Where is Mary?";
    public const string Answer = "bathroom";

    public static PerkSettings Settings(ModelConfig config) => new()
    {
        Lora = new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.0 },
        InnerSteps = 3,
        UnrollStart = 1,
        InnerLr = 1e-2,
        TrainDropout = false,
        TrainAccumulation = 1,
    };

    /// <summary>Context micro-batches (sequential ids, separate rows) and the question batch; the caller disposes.</summary>
    public static (List<TokenBatch> Context, TokenBatch Question) Tensors(ITokenizer tokenizer, ModelConfig config, int accumulation = 1)
    {
        var seqs = PerkBatcher.Context(Segments, tokenizer, config.VocabSize, config.MaxPositionEmbeddings);
        var q = PerkBatcher.Question(Segments.Length, Question, Answer, null, tokenizer, config.VocabSize, config.MaxPositionEmbeddings);
        return (PerkBatcher.MicroBatches(seqs, accumulation, packed: false, tokenizer.PadId), PerkBatcher.Separate(new[] { q }, tokenizer.PadId));
    }
}
