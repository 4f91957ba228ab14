// Reader for the PyTorch golden fixtures written by tools/golden/gen_golden.py.
// Format: tools/golden/FORMAT.md. Independent of ConvKit's Tensor type on purpose: tests convert
// GoldenTensor (shape + float[]/long[]) to whatever they need.

using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace ConvKit.Tests.Golden;

/// <summary>
/// A fixture tensor. Seeded inputs are materialised when the file is loaded, so <see cref="Data"/>
/// is filled whether the values were stored or regenerated; integer tensors (indices) have
/// <see cref="Ints"/> instead.
/// </summary>
public sealed record GoldenTensor(int[] Shape, float[]? Data, long[]? Ints)
{
    /// <summary>The PRNG seed this tensor was generated from, or null when its values were stored.</summary>
    public ulong? Seed { get; init; }
    public double Lo { get; init; } = -1;
    public double Hi { get; init; } = 1;

    public int Rank => Shape.Length;
    public long Numel => NumelOf(Shape);
    public bool IsInts => Ints is not null;

    /// <summary>Float values (stored or regenerated); throws for an integer tensor.</summary>
    public float[] Values => Data ?? throw new InvalidOperationException("integer tensor has no float data");

    /// <summary>A tensor generated from the shared PRNG.</summary>
    public static GoldenTensor FromSeed(int[] shape, ulong seed, double lo = -1, double hi = 1)
        => new(shape, GoldenPrng.Generate(shape, seed, lo, hi), null) { Seed = seed, Lo = lo, Hi = hi };

    public static GoldenTensor Zeros(int[] shape) => new(shape, new float[NumelOf(shape)], null);

    /// <summary>Returns this tensor with <see cref="Data"/> filled (regenerating it from <see cref="Seed"/> if needed).</summary>
    public GoldenTensor Materialize()
        => Data is not null || Ints is not null ? this
            : Seed is { } s ? this with { Data = GoldenPrng.Generate(Shape, s, Lo, Hi) }
            : throw new InvalidOperationException("tensor has neither data, ints nor a seed");

    public static long NumelOf(int[] shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    public override string ToString() => $"[{string.Join(",", Shape)}]" + (IsInts ? " ints" : "");
}

/// <summary>One fixture case: op, PyTorch kwargs, inputs, expected outputs/gradients or an expected error.</summary>
public sealed class GoldenCase : IXunitSerializable
{
    private static readonly IReadOnlyList<GoldenTensor> NoTensors = Array.Empty<GoldenTensor>();

    private Dictionary<string, JsonElement> _args = new();
    private Dictionary<string, object?> _inputs = new();   // GoldenTensor, List<GoldenTensor> or null
    private Dictionary<string, object?> _grads = new();
    private IReadOnlyList<GoldenTensor> _outputs = NoTensors;
    private IReadOnlyList<ulong?> _gradOutputSeeds = Array.Empty<ulong?>();

    /// <summary>For xUnit's deserializer only.</summary>
    [Obsolete("Called by the xUnit serializer only")]
    public GoldenCase() { }

    public string Family { get; private set; } = "";
    public string Id { get; private set; } = "";
    public string Op { get; private set; } = "";
    /// <summary>The kwargs exactly as passed to PyTorch (a JSON object).</summary>
    public JsonElement Args { get; private set; }
    /// <summary>First line of PyTorch's error message when PyTorch rejects the case, else null.</summary>
    public string? Error { get; private set; }
    public bool IsError => Error is not null;

    /// <summary>Every tensor the op returns, in PyTorch's order (empty for an error case).</summary>
    public IReadOnlyList<GoldenTensor> Outputs => _outputs;
    /// <summary>Seed of the upstream gradient of each output; null for outputs that carry no gradient (indices, running stats).</summary>
    public IReadOnlyList<ulong?> GradOutputSeeds => _gradOutputSeeds;
    /// <summary>True when the case stores gradients (false for errors and ops without backward such as argmax).</summary>
    public bool HasGrads => _grads.Count > 0;
    public IEnumerable<string> InputNames => _inputs.Keys;
    public IEnumerable<string> GradNames => _grads.Keys;

    // ---------------------------------------------------------------- args

    /// <summary>True when the key is present in args with a non-null value.</summary>
    public bool Has(string key) => _args.TryGetValue(key, out var v) && v.ValueKind != JsonValueKind.Null;
    /// <summary>True when the key is present in args at all (even as null).</summary>
    public bool HasKey(string key) => _args.ContainsKey(key);
    /// <summary>True when the key is missing or JSON null (PyTorch's None / default).</summary>
    public bool IsNull(string key) => !Has(key);

    public int Int(string key) => Arg(key).GetInt32();
    public long Long(string key) => Arg(key).GetInt64();
    public double Double(string key) => Arg(key).GetDouble();
    public bool Bool(string key) => Arg(key).GetBoolean();
    public int? IntOrNull(string key) => Has(key) ? Int(key) : null;
    public double? DoubleOrNull(string key) => Has(key) ? Double(key) : null;
    public bool? BoolOrNull(string key) => Has(key) ? Bool(key) : null;

    /// <summary>The value when it is a JSON string (e.g. padding "same"), else null.</summary>
    public string? String(string key)
        => _args.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>int v -> [v, v]; a list -> as is.</summary>
    public int[] IntPair(string key)
    {
        var v = Arg(key);
        return v.ValueKind == JsonValueKind.Number ? new[] { v.GetInt32(), v.GetInt32() } : IntArray(v, key);
    }

    /// <summary>A list -> as is; a single int v -> [v].</summary>
    public int[] IntList(string key)
    {
        var v = Arg(key);
        return v.ValueKind == JsonValueKind.Number ? new[] { v.GetInt32() } : IntArray(v, key);
    }

    /// <summary>number v -> [v, v]; a list -> as is (e.g. interpolate's scale_factor).</summary>
    public double[] DoublePair(string key)
    {
        var v = Arg(key);
        if (v.ValueKind == JsonValueKind.Number) return new[] { v.GetDouble(), v.GetDouble() };
        return v.EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }

    /// <summary>Raw JSON value of an arg (throws when missing).</summary>
    public JsonElement Arg(string key)
        => _args.TryGetValue(key, out var v) ? v
            : throw new KeyNotFoundException($"{Id}: no arg '{key}' (args: {Args.GetRawText()})");

    private int[] IntArray(JsonElement v, string key)
    {
        if (v.ValueKind != JsonValueKind.Array)
            throw new InvalidOperationException($"{Id}: arg '{key}' is {v.ValueKind}, expected int or list");
        return v.EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    // ---------------------------------------------------------------- tensors

    /// <summary>A tensor input (materialised), or null when absent / JSON null (e.g. bias=None).</summary>
    public GoldenTensor? Input(string name)
        => _inputs.TryGetValue(name, out var v) ? v switch
        {
            null => null,
            GoldenTensor t => t,
            _ => throw new InvalidOperationException($"{Id}: input '{name}' is a list; use InputList"),
        } : null;

    /// <summary>A list-of-tensors input (cat/stack "tensors"); a single tensor is returned as a one-element list.</summary>
    public IReadOnlyList<GoldenTensor> InputList(string name)
        => _inputs.TryGetValue(name, out var v) ? AsList(v) : NoTensors;

    /// <summary>Expected gradient w.r.t. an input, or null when none is stored.</summary>
    public GoldenTensor? Grad(string name)
        => _grads.TryGetValue(name, out var v) ? v switch
        {
            null => null,
            GoldenTensor t => t,
            _ => throw new InvalidOperationException($"{Id}: grad '{name}' is a list; use GradList"),
        } : null;

    public IReadOnlyList<GoldenTensor> GradList(string name)
        => _grads.TryGetValue(name, out var v) ? AsList(v) : NoTensors;

    /// <summary>
    /// Upstream gradient for output k, generated from grad_output_seeds[k] with that output's shape.
    /// Outputs that carry no gradient (null seed: indices, batch_norm running stats) get zeros.
    /// </summary>
    public GoldenTensor GradOutput(int k)
    {
        if (IsError) throw new InvalidOperationException($"{Id} is an error case and has no outputs");
        var shape = _outputs[k].Shape;
        return k < _gradOutputSeeds.Count && _gradOutputSeeds[k] is { } s
            ? GoldenTensor.FromSeed(shape, s)
            : GoldenTensor.Zeros(shape);
    }

    private static IReadOnlyList<GoldenTensor> AsList(object? v) => v switch
    {
        null => NoTensors,
        GoldenTensor t => new[] { t },
        List<GoldenTensor> l => l,
        _ => NoTensors,
    };

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Id).Append(' ').Append(Op).Append(' ').Append(Args.ValueKind == JsonValueKind.Undefined ? "{}" : Args.GetRawText());
        foreach (var (name, v) in _inputs)
        {
            sb.Append(' ').Append(name);
            switch (v)
            {
                case null: sb.Append("=null"); break;
                case GoldenTensor t: sb.Append(t); break;
                case List<GoldenTensor> l: sb.Append('{').Append(string.Join(",", l)).Append('}'); break;
            }
        }
        if (Error is not null) sb.Append(" -> error");
        return sb.ToString();
    }

    // ---------------------------------------------------------------- xUnit serialization

    public void Serialize(IXunitSerializationInfo info)
    {
        info.AddValue("family", Family);
        info.AddValue("id", Id);
    }

    public void Deserialize(IXunitSerializationInfo info)
    {
        var family = info.GetValue<string>("family");
        var id = info.GetValue<string>("id");
        CopyFrom(GoldenFixtures.Find(family, id));
    }

    private void CopyFrom(GoldenCase o)
    {
        Family = o.Family; Id = o.Id; Op = o.Op; Args = o.Args; Error = o.Error;
        _args = o._args; _inputs = o._inputs; _grads = o._grads;
        _outputs = o._outputs; _gradOutputSeeds = o._gradOutputSeeds;
    }

    // ---------------------------------------------------------------- parsing

    internal static GoldenCase Parse(string family, JsonElement e)
    {
#pragma warning disable CS0618
        var c = new GoldenCase { Family = family };
#pragma warning restore CS0618
        c.Id = e.GetProperty("id").GetString()!;
        c.Op = e.GetProperty("op").GetString()!;
        c.Args = e.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Object
            ? a.Clone() : JsonDocument.Parse("{}").RootElement.Clone();
        foreach (var p in c.Args.EnumerateObject()) c._args[p.Name] = p.Value;
        if (e.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.String)
            c.Error = err.GetString();
        if (e.TryGetProperty("inputs", out var ins) && ins.ValueKind == JsonValueKind.Object)
            foreach (var p in ins.EnumerateObject()) c._inputs[p.Name] = ParseTensorOrList(p.Value);
        if (e.TryGetProperty("grads", out var gr) && gr.ValueKind == JsonValueKind.Object)
            foreach (var p in gr.EnumerateObject()) c._grads[p.Name] = ParseTensorOrList(p.Value);
        if (e.TryGetProperty("outputs", out var outs) && outs.ValueKind == JsonValueKind.Array)
            c._outputs = outs.EnumerateArray().Select(ParseTensor).ToArray();
        if (e.TryGetProperty("grad_output_seeds", out var gs) && gs.ValueKind == JsonValueKind.Array)
            c._gradOutputSeeds = gs.EnumerateArray()
                .Select(s => s.ValueKind == JsonValueKind.Null ? (ulong?)null : s.GetUInt64()).ToArray();
        return c;
    }

    private static object? ParseTensorOrList(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.Array => v.EnumerateArray().Select(ParseTensor).ToList(),
        _ => ParseTensor(v),
    };

    private static GoldenTensor ParseTensor(JsonElement v)
    {
        var shape = v.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        if (v.TryGetProperty("data", out var data))
        {
            var f = new float[data.GetArrayLength()];
            int i = 0;
            foreach (var x in data.EnumerateArray()) f[i++] = x.GetSingle();
            return new GoldenTensor(shape, f, null);
        }
        if (v.TryGetProperty("ints", out var ints))
            return new GoldenTensor(shape, null, ints.EnumerateArray().Select(x => x.GetInt64()).ToArray());
        if (v.TryGetProperty("seed", out var seed))
        {
            double lo = v.TryGetProperty("lo", out var l) ? l.GetDouble() : -1;
            double hi = v.TryGetProperty("hi", out var h) ? h.GetDouble() : 1;
            return GoldenTensor.FromSeed(shape, seed.GetUInt64(), lo, hi);
        }
        throw new InvalidDataException("tensor without data, ints or seed: " + v.GetRawText());
    }
}

/// <summary>Loads Fixtures/golden/&lt;family&gt;.json.gz (copied next to the test assembly) and feeds xUnit.</summary>
public static class GoldenFixtures
{
    private sealed record FamilyData(IReadOnlyList<GoldenCase> Cases, Dictionary<string, GoldenCase> ById, string Torch);

    private static readonly ConcurrentDictionary<string, Lazy<FamilyData>> Cache = new();

    public static string FixtureDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "golden");

    public static IReadOnlyList<GoldenCase> Load(string family) => Get(family).Cases;

    /// <summary>PyTorch version string the family's fixtures were generated with.</summary>
    public static string TorchVersion(string family) => Get(family).Torch;

    public static GoldenCase Find(string family, string id)
        => Get(family).ById.TryGetValue(id, out var c) ? c
            : throw new KeyNotFoundException($"no golden case '{id}' in family '{family}'");

    /// <summary>xUnit [MemberData] rows, one <c>new object[] { case }</c> per case, filtered by op (all ops when none given).</summary>
    public static IEnumerable<object[]> Cases(string family, params string[] ops)
    {
        foreach (var c in Load(family))
            if (ops.Length == 0 || Array.IndexOf(ops, c.Op) >= 0)
                yield return new object[] { c };
    }

    private static FamilyData Get(string family)
        => Cache.GetOrAdd(family, f => new Lazy<FamilyData>(() => Read(f), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static FamilyData Read(string family)
    {
        var path = Path.Combine(FixtureDirectory, family + ".json.gz");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"golden fixture '{path}' not found; run /usr/bin/python3 tools/golden/gen_golden.py", path);
        using var file = File.OpenRead(path);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(gz, new JsonDocumentOptions { MaxDepth = 64 });
        var root = doc.RootElement;
        var torch = root.TryGetProperty("torch", out var t) ? t.GetString() ?? "" : "";
        var cases = root.GetProperty("cases").EnumerateArray().Select(e => GoldenCase.Parse(family, e)).ToArray();
        var byId = new Dictionary<string, GoldenCase>(cases.Length);
        foreach (var c in cases) byId.Add(c.Id, c);
        return new FamilyData(cases, byId, torch);
    }
}
