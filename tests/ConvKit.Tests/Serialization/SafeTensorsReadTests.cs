using System.Text.Json;
using ConvKit.Serialization;
using Xunit;

namespace ConvKit.Tests.Serialization;

/// <summary>Files written by PyTorch (tools/golden/gen_safetensors.py) read back with every dtype converted as PyTorch converts it.</summary>
public class SafeTensorsReadTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "safetensors", name);

    public static TheoryData<string> Names() => new() { "f32", "f16", "bf16", "f64", "i64", "i32", "u8", "scalar", "empty" };

    [Theory, MemberData(nameof(Names))]
    public void EveryDTypeWrittenByPyTorchConvertsToTheSameFloat32Values(string name)
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Fixture("dtypes.json"))).RootElement.GetProperty(name);
        using var file = SafeTensorsFile.Open(Fixture("dtypes.safetensors"));
        var t = file.ReadTensor(name);
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()), t.Shape);
        Assert.Equal(expected.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()), t.ToArray());
    }

    [Fact]
    public void HeaderListsDTypesShapesAndMetadata()
    {
        using var file = SafeTensorsFile.Open(Fixture("dtypes.safetensors"));
        Assert.Equal(9, file.Entries.Count);
        Assert.Equal(SafeTensorsDType.BF16, file["bf16"].DType);
        Assert.Equal([3, 5], file["i64"].Shape);
        Assert.Empty(file["scalar"].Shape);
        Assert.Equal("tools/golden/gen_safetensors.py", file.Metadata["written_by"]);
        var e = Assert.Throws<KeyNotFoundException>(() => file["nope"]);
        Assert.Contains("'nope'", e.Message);
    }

    [Fact]
    public void IntegerTensorsReadAsInt64Exactly()
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Fixture("dtypes.json"))).RootElement;
        using var file = SafeTensorsFile.Open(Fixture("dtypes.safetensors"));
        foreach (var name in new[] { "i32", "u8" })
            Assert.Equal(expected.GetProperty(name).GetProperty("data").EnumerateArray().Select(v => (long)v.GetDouble()), file.ReadLongTensor(name).ToArray());
        // The generator wrote i64 = i32 * 1000003, beyond float32's exact integers, so it is checked through i32.
        Assert.Equal(file.ReadLongTensor("i32").ToArray().Select(v => v * 1000003), file.ReadLongTensor("i64").ToArray());
        var err = Assert.Throws<SafeTensorsException>(() => file.ReadLongTensor("f32"));
        Assert.Contains("whole numbers", err.Message);
    }
}
