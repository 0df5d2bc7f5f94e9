using PerkSharp.Models;
using static TorchSharp.torch;

namespace PerkSharp.Tests.Models;

/// <summary>
/// An independent scalar re-implementation of HF's GPT2LMHeadModel and Qwen2/Llama forward (double precision, plain
/// loops, written from the HF modeling code, sharing nothing with the engine but the weights). It pins the
/// conventions the other tests cannot see: Conv1D [in, out] orientation, fused qkv split order, gelu_new, rotate_half
/// pairing (i, i + D/2), llama3 inverse frequencies, GQA head grouping and the tied/untied head.
/// </summary>
internal sealed class NaiveReference
{
    readonly Dictionary<string, double[]> _w;
    readonly ModelConfig _c;

    public NaiveReference(CausalLM model)
    {
        _c = model.Config;
        _w = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float64).data<double>().ToArray());
    }

    double[] W(string key) => _w[key];

    /// <summary>Logits [T][V] of one unpadded sequence at positions 0..T-1.</summary>
    public double[][] Logits(long[] ids) => _c.IsGpt2 ? Gpt2(ids) : Decoder(ids);

    double[][] Gpt2(long[] ids)
    {
        int h = _c.HiddenSize, T = ids.Length, nh = _c.NumAttentionHeads, hd = h / nh;
        var x = new double[T][];
        for (int t = 0; t < T; t++)
            x[t] = Enumerable.Range(0, h).Select(j => W("transformer.wte.weight")[ids[t] * h + j] + W("transformer.wpe.weight")[t * h + j]).ToArray();
        for (int l = 0; l < _c.NumHiddenLayers; l++)
        {
            string p = $"transformer.h.{l}.";
            var a = x.Select(r => LayerNorm(r, p + "ln_1")).ToArray();
            var qkv = a.Select(r => Conv1D(r, p + "attn.c_attn")).ToArray();     // [T][3h]: q | k | v
            var q = qkv.Select(r => r[..h]).ToArray();
            var k = qkv.Select(r => r[h..(2 * h)]).ToArray();
            var v = qkv.Select(r => r[(2 * h)..]).ToArray();
            var att = Attend(q, k, v, nh, nh, hd);
            x = Add(x, att.Select(r => Conv1D(r, p + "attn.c_proj")).ToArray());
            var m = x.Select(r => LayerNorm(r, p + "ln_2")).ToArray();
            var f = m.Select(r => Conv1D(r, p + "mlp.c_fc").Select(GeluNew).ToArray()).ToArray();
            x = Add(x, f.Select(r => Conv1D(r, p + "mlp.c_proj")).ToArray());
        }
        var y = x.Select(r => LayerNorm(r, "transformer.ln_f")).ToArray();
        return y.Select(r => MatVec(W("transformer.wte.weight"), r, _c.VocabSize, null)).ToArray();
    }

    double[][] Decoder(long[] ids)
    {
        int h = _c.HiddenSize, T = ids.Length, nh = _c.NumAttentionHeads, kvh = _c.NumKeyValueHeads, hd = _c.HeadDim;
        var x = ids.Select(id => W("model.embed_tokens.weight").Skip((int)id * h).Take(h).ToArray()).ToArray();
        var inv = InvFreq();
        for (int l = 0; l < _c.NumHiddenLayers; l++)
        {
            string p = $"model.layers.{l}.";
            var a = x.Select(r => RmsNorm(r, p + "input_layernorm.weight")).ToArray();
            var q = a.Select((r, t) => Rope(Linear(r, p + "self_attn.q_proj"), nh, hd, t, inv)).ToArray();
            var k = a.Select((r, t) => Rope(Linear(r, p + "self_attn.k_proj"), kvh, hd, t, inv)).ToArray();
            var v = a.Select(r => Linear(r, p + "self_attn.v_proj")).ToArray();
            var att = Attend(q, k, v, nh, kvh, hd);
            x = Add(x, att.Select(r => Linear(r, p + "self_attn.o_proj")).ToArray());
            var m = x.Select(r => RmsNorm(r, p + "post_attention_layernorm.weight")).ToArray();
            var g = m.Select(r =>
            {
                var gate = Linear(r, p + "mlp.gate_proj"); var up = Linear(r, p + "mlp.up_proj");
                return gate.Select((z, i) => z / (1 + Math.Exp(-z)) * up[i]).ToArray();
            }).ToArray();
            x = Add(x, g.Select(r => Linear(r, p + "mlp.down_proj")).ToArray());
        }
        var y = x.Select(r => RmsNorm(r, "model.norm.weight")).ToArray();
        var head = _w.ContainsKey("lm_head.weight") ? W("lm_head.weight") : W("model.embed_tokens.weight");
        return y.Select(r => MatVec(head, r, _c.VocabSize, null)).ToArray();
    }

    double[] InvFreq()
    {
        int d = _c.HeadDim;
        var inv = Enumerable.Range(0, d / 2).Select(i => 1.0 / Math.Pow(_c.RopeTheta, 2.0 * i / d)).ToArray();
        if (_c.RopeScaling is { RopeType: "llama3" } s)
            for (int i = 0; i < inv.Length; i++)
            {
                double wl = 2 * Math.PI / inv[i], lowWl = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor, highWl = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                if (wl > lowWl) inv[i] /= s.Factor;
                else if (wl >= highWl)
                {
                    double sm = (s.OriginalMaxPositionEmbeddings / wl - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    inv[i] = (1 - sm) * inv[i] / s.Factor + sm * inv[i];
                }
            }
        return inv;
    }

    /// <summary>HF rotate_half: pairs (i, i + D/2) of each head rotate by angle pos·inv_freq[i].</summary>
    static double[] Rope(double[] v, int heads, int d, int pos, double[] inv)
    {
        var o = (double[])v.Clone();
        for (int hh = 0; hh < heads; hh++)
            for (int i = 0; i < d / 2; i++)
            {
                double c = Math.Cos(pos * inv[i]), s = Math.Sin(pos * inv[i]);
                double a = v[hh * d + i], b = v[hh * d + i + d / 2];
                o[hh * d + i] = a * c - b * s;
                o[hh * d + i + d / 2] = b * c + a * s;
            }
        return o;
    }

    /// <summary>Causal softmax attention; query head hh reads kv head hh / (heads / kvHeads).</summary>
    static double[][] Attend(double[][] q, double[][] k, double[][] v, int heads, int kvHeads, int d)
    {
        int T = q.Length;
        var o = Enumerable.Range(0, T).Select(_ => new double[heads * d]).ToArray();
        for (int hh = 0; hh < heads; hh++)
        {
            int kh = hh / (heads / kvHeads);
            for (int t = 0; t < T; t++)
            {
                var s = new double[t + 1];
                for (int j = 0; j <= t; j++)
                {
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += q[t][hh * d + i] * k[j][kh * d + i];
                    s[j] = dot / Math.Sqrt(d);
                }
                double mx = s.Max(), z = s.Sum(e => Math.Exp(e - mx));
                for (int j = 0; j <= t; j++)
                    for (int i = 0; i < d; i++) o[t][hh * d + i] += Math.Exp(s[j] - mx) / z * v[j][kh * d + i];
            }
        }
        return o;
    }

    double[] LayerNorm(double[] x, string p)
    {
        double mean = x.Average(), var = x.Select(e => (e - mean) * (e - mean)).Average();
        var w = W(p + ".weight"); var b = W(p + ".bias");
        return x.Select((e, i) => (e - mean) / Math.Sqrt(var + _c.LayerNormEpsilon) * w[i] + b[i]).ToArray();
    }

    double[] RmsNorm(double[] x, string key)
    {
        double ms = x.Select(e => e * e).Average();
        var w = W(key);
        return x.Select((e, i) => e / Math.Sqrt(ms + _c.RmsNormEps) * w[i]).ToArray();
    }

    static double GeluNew(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    /// <summary>GPT-2 Conv1D: y[o] = Σ_i x[i]·W[i, o] + b[o] (weight stored [in, out]).</summary>
    double[] Conv1D(double[] x, string p)
    {
        var w = W(p + ".weight"); var b = W(p + ".bias");
        int n = b.Length;
        var y = (double[])b.Clone();
        for (int i = 0; i < x.Length; i++) for (int o = 0; o < n; o++) y[o] += x[i] * w[i * n + o];
        return y;
    }

    /// <summary>nn.Linear: y = W x + b with W [out, in].</summary>
    double[] Linear(double[] x, string p)
    {
        var w = W(p + ".weight");
        return MatVec(w, x, w.Length / x.Length, _w.TryGetValue(p + ".bias", out var b) ? b : null);
    }

    static double[] MatVec(double[] w, double[] x, int rows, double[]? b)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = b?[r] ?? 0;
            for (int i = 0; i < x.Length; i++) s += w[r * x.Length + i] * x[i];
            y[r] = s;
        }
        return y;
    }

    static double[][] Add(double[][] a, double[][] b) => a.Select((r, t) => r.Select((e, i) => e + b[t][i]).ToArray()).ToArray();
}
