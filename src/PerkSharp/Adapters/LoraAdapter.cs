using PerkSharp.Models;
using PerkSharp.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PerkSharp.Adapters;

/// <summary>
/// The LoRA meta-parameters θ_adapter: for every selected target projection an initial A [r, in] (Kaiming-uniform,
/// a = √5, i.e. U(−1/√in, 1/√in) as PEFT) and B [out, r] = 0. The fast weights of the inner loop are a flat list
/// [A_0, B_0, A_1, B_1, ...] in the order of <see cref="Selected"/>; <see cref="State"/> turns any such list (leaf or
/// graph-carrying) into the <see cref="LoraState"/> the model runs with, so the model is never copied.
/// </summary>
public sealed class LoraAdapter : nn.Module
{
    int _count;

    /// <param name="targets">The model's <c>LoraTargets</c> (all of them; the filter picks the adapted ones).</param>
    /// <param name="config">The model config (family defaults for target names, layer count).</param>
    public LoraAdapter(IReadOnlyList<LoraTarget> targets, ModelConfig config, LoraOptions options, ScalarType dtype = ScalarType.Float32, long? seed = null)
        : base("lora")
    {
        options.Validate();
        Options = options;
        AllTargets = targets;
        var names = new HashSet<string>(options.TargetModules ?? LoraOptions.DefaultTargets(config), StringComparer.Ordinal);
        int firstLayer = options.TopKLayers is int k ? Math.Max(0, config.NumHiddenLayers - k) : 0;
        var selected = new List<int>();
        for (int i = 0; i < targets.Count; i++)
        {
            string leaf = targets[i].Name[(targets[i].Name.LastIndexOf('.') + 1)..];
            if (names.Contains(leaf) && targets[i].Layer >= firstLayer) selected.Add(i);
        }
        if (selected.Count == 0)
            throw new PerkException($"LoRA: no projection of this {config.ModelType} model matches the target modules [{string.Join(", ", names)}]");
        Selected = selected;

        using var gen = seed is long s ? new Generator((ulong)s) : null;
        var tensorNames = new List<string>();
        for (int j = 0; j < selected.Count; j++)
        {
            var t = targets[selected[j]];
            double bound = 1.0 / Math.Sqrt(t.InFeatures);           // kaiming_uniform(a=√5): gain √(1/3), bound = gain·√3/√fan_in
            using (no_grad())
            {
                var a = (rand(new long[] { options.Rank, t.InFeatures }, dtype, generator: gen) * (2 * bound) - bound);
                var b = zeros(new long[] { t.OutFeatures, options.Rank }, dtype);
                var pa = new Parameter(a, requires_grad: true);
                var pb = new Parameter(b, requires_grad: true);
                register_parameter($"A{j}", pa);
                register_parameter($"B{j}", pb);
                _count += 2;
            }
            tensorNames.Add(PeftKey(t.Name, isB: false));
            tensorNames.Add(PeftKey(t.Name, isB: true));
        }
        TensorNames = tensorNames;
    }

    public LoraOptions Options { get; }

    /// <summary>All adaptable projections of the model (LoraState is indexed by this list).</summary>
    public IReadOnlyList<LoraTarget> AllTargets { get; }

    /// <summary>Indices into <see cref="AllTargets"/> of the adapted projections.</summary>
    public IReadOnlyList<int> Selected { get; }

    /// <summary>The meta-learned initial fast weights, [A_0, B_0, A_1, B_1, ...].</summary>
    /// Looked up by name on every call because Module.to(dtype) replaces the Parameter objects.
    public IReadOnlyList<Parameter> Initial =>
        Enumerable.Range(0, _count).Select(i => get_parameter((i % 2 == 0 ? "A" : "B") + (i / 2))!).ToList();

    /// <summary>Number of fast tensors (2 per adapted projection).</summary>
    public int Count => _count;

    /// <summary>PEFT key of each fast tensor, e.g. base_model.model.transformer.h.0.attn.c_attn.lora_A.weight.</summary>
    public IReadOnlyList<string> TensorNames { get; }

    /// <summary>The adapted target of fast tensor <paramref name="index"/>.</summary>
    public LoraTarget TargetOf(int index) => AllTargets[Selected[index / 2]];

    /// <summary>Whether fast tensor <paramref name="index"/> is a B (up) matrix.</summary>
    public static bool IsB(int index) => index % 2 == 1;

    /// <summary>PEFT state-dict key of a target's A or B weight.</summary>
    public static string PeftKey(string targetName, bool isB) => $"base_model.model.{targetName}.lora_{(isB ? "B" : "A")}.weight";

    /// <summary>
    /// The LoraState for a flat fast-weight list (same order and shapes as <see cref="Initial"/>). The tensors are used
    /// as they are (no copy), so graph-carrying inner-loop tensors keep their history.
    /// </summary>
    public LoraState State(IReadOnlyList<Tensor> fast, bool training)
    {
        if (fast.Count != Count) throw new ArgumentException($"expected {Count} LoRA fast tensors, got {fast.Count}");
        var a = new Tensor?[AllTargets.Count];
        var b = new Tensor?[AllTargets.Count];
        for (int j = 0; j < Selected.Count; j++) { a[Selected[j]] = fast[2 * j]; b[Selected[j]] = fast[2 * j + 1]; }
        return new LoraState(a, b, Options.Scale, Options.Dropout, training);
    }

    /// <summary>Detached copies of the initial weights that require grad (a fresh, graph-free inner-loop start).</summary>
    public List<Tensor> DetachedCopy()
    {
        var list = new List<Tensor>(Count);
        foreach (var p in Initial) list.Add(p.detach().clone().requires_grad_(true));
        return list;
    }

    /// <summary>Checks one tensor against the expected shape of fast tensor <paramref name="index"/> (for loading).</summary>
    public void CheckShape(int index, Tensor t, string source)
    {
        var expected = Initial[index].shape;
        if (!t.shape.SequenceEqual(expected))
            throw new PerkException($"{source}: tensor \"{TensorNames[index]}\" has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", expected)}] (rank {Options.Rank})");
    }
}
