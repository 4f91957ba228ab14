using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using ConvKit.Optim;
using ConvKit.Tests.Golden;

namespace ConvKit.Tests.Optim;

/// <summary>
/// Reader for optim.json.gz and sched.json.gz (tools/golden/gen_golden_train.py; layouts in FORMAT.md) and the
/// builders that turn their PyTorch keyword arguments into ConvKit optimizers.
/// </summary>
internal static class TrainFixtures
{
    private static readonly ConcurrentDictionary<string, Lazy<Dictionary<string, JsonElement>>> Cache = new();

    public static IEnumerable<object[]> Ids(string family) => Load(family).Keys.Select(id => new object[] { id });

    public static JsonElement Case(string family, string id) => Load(family)[id];

    private static Dictionary<string, JsonElement> Load(string family) => Cache.GetOrAdd(family, f => new Lazy<Dictionary<string, JsonElement>>(() =>
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(GoldenFixtures.FixtureDirectory, f + ".json.gz")), CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(gz);
        return doc.RootElement.GetProperty("cases").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.Clone());
    })).Value;

    /// <summary>A fixture tensor: seeded (FORMAT.md PRNG) or stored data.</summary>
    public static Tensor Tensor(JsonElement t)
    {
        var shape = t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        if (t.TryGetProperty("data", out var data))
            return ConvKit.Tensor.FromArray(data.EnumerateArray().Select(v => v.GetSingle()).ToArray(), shape);
        double lo = t.TryGetProperty("lo", out var l) ? l.GetDouble() : -1, hi = t.TryGetProperty("hi", out var h) ? h.GetDouble() : 1;
        return ConvKit.Tensor.FromArray(GoldenPrng.Generate(shape, t.GetProperty("seed").GetUInt64(), lo, hi), shape);
    }

    public static string? Error(JsonElement c) => c.GetProperty("error").ValueKind == JsonValueKind.String ? c.GetProperty("error").GetString() : null;

    /// <summary>
    /// torch.optim.&lt;name&gt;(groups or params, **args): the first group through the constructor, the others through
    /// AddParamGroup; each group's own keys override the defaults.
    /// </summary>
    public static Optimizer Build(string name, JsonElement args, IReadOnlyList<Tensor[]> groups, IReadOnlyList<JsonElement?> overrides)
    {
        double D(string key, double fallback) => args.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        bool B(string key) => args.TryGetProperty(key, out var v) && v.GetBoolean();
        (double, double)? betas = args.TryGetProperty("betas", out var b) ? (b[0].GetDouble(), b[1].GetDouble()) : null;
        Optimizer opt = name switch
        {
            // SGD's lr is required unless the groups set it, as in PyTorch
            "SGD" => new SGD(groups[0], D("lr", overrides[0] is { } o0 && o0.TryGetProperty("lr", out var lr0) ? lr0.GetDouble() : double.NaN), D("momentum", 0), D("dampening", 0), D("weight_decay", 0), B("nesterov")),
            "Adam" => new Adam(groups[0], D("lr", 1e-3), betas, D("eps", 1e-8), D("weight_decay", 0), B("amsgrad")),
            "AdamW" => new AdamW(groups[0], D("lr", 1e-3), betas, D("eps", 1e-8), D("weight_decay", 1e-2), B("amsgrad")),
            _ => throw new NotSupportedException(name),
        };
        for (int g = 0; g < groups.Count; g++)
        {
            var o = overrides[g];
            switch (opt)
            {
                case SGD sgd:
                    Configure(g == 0 ? sgd.ParamGroups[0] : sgd.AddParamGroup(groups[g]), o);
                    break;
                case AdamBase adam:
                    Configure(g == 0 ? adam.ParamGroups[0] : adam.AddParamGroup(groups[g]), o);
                    break;
            }
        }
        return opt;
    }

    private static void Configure(ParamGroup group, JsonElement? o)
    {
        if (o is not { } e) return;
        foreach (var p in e.EnumerateObject())
        {
            switch (group, p.Name)
            {
                case (_, "params"): break;
                case (_, "lr"): group.Lr = p.Value.GetDouble(); break;
                case (SgdParamGroup s, "momentum"): s.Momentum = p.Value.GetDouble(); break;
                case (SgdParamGroup s, "dampening"): s.Dampening = p.Value.GetDouble(); break;
                case (SgdParamGroup s, "weight_decay"): s.WeightDecay = p.Value.GetDouble(); break;
                case (SgdParamGroup s, "nesterov"): s.Nesterov = p.Value.GetBoolean(); break;
                case (AdamParamGroup a, "betas"): a.Betas = (p.Value[0].GetDouble(), p.Value[1].GetDouble()); break;
                case (AdamParamGroup a, "eps"): a.Eps = p.Value.GetDouble(); break;
                case (AdamParamGroup a, "weight_decay"): a.WeightDecay = p.Value.GetDouble(); break;
                case (AdamParamGroup a, "amsgrad"): a.Amsgrad = p.Value.GetBoolean(); break;
                default: throw new NotSupportedException($"group option {p.Name}");
            }
        }
    }
}
