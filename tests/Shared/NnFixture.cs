using System.Text.Json;

namespace ConvKit.Tests;

/// <summary>Reads Fixtures/nn/nn.json (tools/golden/gen_nn.py) and the shared splitmix64 input generator.</summary>
internal static class NnFixture
{
    private static readonly Lazy<JsonElement> Root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "nn", "nn.json"))).RootElement);

    public static JsonElement Get(string key) => Root.Value.GetProperty(key);

    public static (int[] Shape, float[] Data) Tensor(JsonElement e) =>
        (e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(),
         e.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray());

    public static float[] Seeded(int count, ulong seed) => ConvKit.Tests.Golden.GoldenPrng.Generate(count, seed);
}
