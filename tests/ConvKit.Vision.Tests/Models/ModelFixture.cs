using System.IO.Compression;
using System.Text.Json;
using ConvKit.Nn;
using ConvKit.Tests;
using Xunit;

namespace ConvKit.Vision.Tests.Models;

/// <summary>
/// Reads Fixtures/models/&lt;section&gt;.json.gz (tools/golden/gen_vision_models.py) and checks a module against one
/// case: names, seeded initial state, train/eval forwards, running statistics and parameter gradients.
/// A stored tensor is either full ({shape, data}) or a summary ({shape, first, sum, abssum[, stride, sample]}).
/// </summary>
internal static class ModelFixture
{
    private static readonly Dictionary<string, JsonElement> Files = [];

    public static JsonElement Get(string section, string key)
    {
        lock (Files)
        {
            if (!Files.TryGetValue(section, out var root))
            {
                using var gz = new GZipStream(File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Fixtures", "models", section + ".json.gz")), CompressionMode.Decompress);
                Files[section] = root = JsonDocument.Parse(gz).RootElement;
            }
            return root.GetProperty(key);
        }
    }

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
    public static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    public static Tensor Seeded(int[] shape, ulong seed) => Tensor.FromArray(NnFixture.Seeded(shape.Aggregate(1, (a, b) => a * b), seed), shape);

    public static Tensor Input(JsonElement c) => Seeded(Ints(c.GetProperty("input_shape")), c.GetProperty("input_seed").GetUInt64());

    /// <summary>|actual − expected| ≤ tol·max(1, |expected|) for every element.</summary>
    public static void Close(float[] expected, float[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]}");
    }

    /// <summary>Compares a tensor with a stored full tensor or summary; sums are compared relative to the |sum|.</summary>
    public static void Matches(JsonElement expected, Tensor actual, double tol, string what)
    {
        Assert.Equal(Ints(expected.GetProperty("shape")), actual.Shape);
        var v = actual.ToArray();
        if (expected.TryGetProperty("data", out var data)) { Close(Floats(data), v, tol, what); return; }
        var first = Floats(expected.GetProperty("first"));
        Close(first, v.Take(first.Length).ToArray(), tol, what + " first");
        double abssum = expected.GetProperty("abssum").GetDouble();
        Assert.True(Math.Abs(v.Sum(x => Math.Abs((double)x)) - abssum) <= tol * Math.Max(1, abssum), $"{what} |sum|: {v.Sum(x => Math.Abs((double)x))} vs PyTorch {abssum}");
        Assert.True(Math.Abs(v.Sum(x => (double)x) - expected.GetProperty("sum").GetDouble()) <= tol * Math.Max(1, abssum), $"{what} sum");
        if (expected.TryGetProperty("sample", out var sample))
        {
            int stride = expected.GetProperty("stride").GetInt32();
            Close(Floats(sample), v.Where((_, i) => i % stride == 0).ToArray(), tol, what + " sample");
        }
    }

    public static void CheckNames(JsonElement c, Module m)
    {
        Assert.Equal(c.GetProperty("parameter_names").EnumerateArray().Select(v => v.GetString()), m.NamedParameters().Select(p => p.Name));
        Assert.Equal(c.GetProperty("buffer_names").EnumerateArray().Select(v => v.GetString()), m.NamedBuffers().Select(b => b.Name));
    }

    /// <summary>
    /// Same keys in the same order, first values within <paramref name="tol"/> (0: bit-exact), sums to float rounding.
    /// Uniform draws (default Conv/Linear init) are bit-exact; kaiming_normal_ agrees to 1e-6 only, because PyTorch's
    /// AVX2 normal_ uses Sleef's log/sin/cos, which differ from .NET's by an ulp (the core's InitTests use 1e-6 too).
    /// </summary>
    public static void CheckInitialState(JsonElement c, Module m, double tol = 0)
    {
        var state = c.GetProperty("state");
        var ours = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(state.EnumerateObject().Select(p => p.Name), m.StateDict().Select(kv => kv.Key));
        foreach (var p in state.EnumerateObject())
        {
            var v = ours[p.Name].ToArray();
            var first = Floats(p.Value.GetProperty("first"));
            Close(first, v.Take(first.Length).ToArray(), tol, p.Name);
            Assert.Equal(p.Value.GetProperty("sum").GetDouble(), v.Sum(x => (double)x), 1e-6 * Math.Max(1, v.Length));
        }
    }

    /// <summary>Names, initial state and forwards of one case (<see cref="CheckNames"/>, <see cref="CheckInitialState"/>, <see cref="CheckForward"/>).</summary>
    public static void CheckModel(JsonElement c, Module m, double initTol = 0)
    {
        CheckNames(c, m);
        CheckInitialState(c, m, initTol);
        CheckForward(c, m);
    }

    /// <summary>Train-mode forward, running statistics after it, eval-mode forward.</summary>
    public static void CheckForward(JsonElement c, Module m, double tol = 1e-4)
    {
        var x = Input(c);
        if (c.TryGetProperty("train_output", out var train))
        {
            m.Train();
            Matches(train, m.Forward(x), tol, "train output");
            var ours = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
            foreach (var p in c.GetProperty("running_after_train").EnumerateObject())
                Matches(p.Value, ours[p.Name], tol, p.Name);
        }
        m.Eval();
        using (Autograd.NoGrad()) Matches(c.GetProperty("eval_output"), m.Forward(x), tol, "eval output");
    }

    /// <summary>Gradients of sum(y · g) for a fresh (train-mode) model, g seeded: first values and |sum| per parameter.</summary>
    public static void CheckGrads(JsonElement c, Module m, double tol = 1e-3)
    {
        var y = m.Forward(Input(c));
        var g = Seeded(y.Shape.ToArray(), c.GetProperty("grad_output_seed").GetUInt64());
        (y * g).Sum().Backward();
        var grads = c.GetProperty("grads");
        Assert.Equal(grads.EnumerateObject().Select(p => p.Name), m.NamedParameters().Select(p => p.Name));
        foreach (var (name, p) in m.NamedParameters())
        {
            var e = grads.GetProperty(name);
            var grad = p.Grad!.ToArray();
            // A conv bias gradient sums dL/dout over N·H·W; behind a train-mode BN it cancels to ~0, and only float32
            // rounding relative to the summed terms (term_scale, from the generator) is meaningful there.
            // Where BN cancels large terms, PyTorch's float32 gradient is itself only f32_err from the float64 one
            // (measured by the generator); being as accurate as PyTorch allows twice that.
            double noise = e.TryGetProperty("term_scale", out var ts) ? 1e-6 * ts.GetDouble() : 0;
            double f32Err = e.GetProperty("f32_err").GetDouble(), abssumErr = e.GetProperty("abssum_f32_err").GetDouble();
            var first = Floats(e.GetProperty("first"));
            for (int i = 0; i < first.Length; i++)
                Assert.True(Math.Abs(first[i] - grad[i]) <= tol * Math.Max(1, Math.Abs(first[i])) + noise + 2 * f32Err, $"{name}.grad[{i}]: {grad[i]} vs PyTorch {first[i]}");
            double abssum = e.GetProperty("abssum").GetDouble(), ours = grad.Sum(v => Math.Abs((double)v));
            Assert.True(Math.Abs(ours - abssum) <= tol * Math.Max(1, abssum) + grad.Length * noise + 2 * abssumErr, $"{name}.grad |sum|: {ours} vs PyTorch {abssum}");
        }
    }

    /// <summary>Builds under <c>Generator.Use(new Generator(case.seed))</c>, like torch.manual_seed before construction.</summary>
    public static T Build<T>(JsonElement c, Func<T> build)
    {
        using (Generator.Use(new Generator(c.GetProperty("seed").GetUInt64()))) return build();
    }
}
