using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using ConvKit.Nn;
using ConvKit.Serialization;
using Xunit;

namespace ConvKit.Tests.Serialization;

/// <summary>
/// The format's rules beyond the basic layout (header start, null metadata, every dtype of the spec ConvKit
/// converts, tensors larger than the read buffer) and loading state dicts with another head.
/// </summary>
public class SafeTensorsSpecTests : TempDirectory
{
    /// <summary>Writes a file from raw header JSON and data bytes (the header is not padded).</summary>
    private string Write(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        var path = PathOf(Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string One(string dtype, int count, byte[] data) =>
        Write($"{{\"t\":{{\"dtype\":\"{dtype}\",\"shape\":[{count}],\"data_offsets\":[0,{data.Length}]}}}}", data);

    [Theory]
    [InlineData(" {}", "begin with '{'")]
    [InlineData("\n{}", "begin with '{'")]
    [InlineData("", "an empty header")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", "data_offsets [begin, end] of integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,null]}}", "data_offsets [begin, end] of integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", "data_offsets [begin, end] of integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775800,9223372036854775807]}}", "needs 4 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775803,9223372036854775807]}}", "belong to no tensor")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,92233720368547758070]}}", "data_offsets [begin, end] of integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,4]}}", "non-negative int32")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4294967296],\"data_offsets\":[0,0]}}", "non-negative int32")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[46341,46341],\"data_offsets\":[0,4]}}", "more than")]
    [InlineData("{\"\\ud800\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", "valid unicode")]
    [InlineData("{\"__metadata__\":{\"k\":\"\\udfff\"}}", "valid unicode")]
    [InlineData("{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", "expected dtype one of")]
    public void HeaderRulesOfTheSpecAreTypedErrors(string header, string expected)
    {
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(Write(header, [])));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void LongJsonInAnErrorIsClipped()
    {
        string junk = new('x', 100_000);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(Write($"{{\"a\":{{\"dtype\":\"{junk}\",\"shape\":[],\"data_offsets\":[0,4]}}}}", new byte[4])));
        Assert.InRange(e.Message.Length, 1, 500);
        Assert.Contains("(100002 characters)", e.Message);
    }

    [Fact]
    public void NullMetadataAndOddUnicodeNamesAreValid()
    {
        using var f = SafeTensorsFile.Open(Write("{\"__metadata__\":null,\"ü\\u00e9\\ud83d\\ude00\\u0000\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}    ", []));
        Assert.Empty(f.Metadata);
        Assert.Equal("üé😀\0", f.Entries.Single().Name);
        Assert.Equal([0], f.ReadTensor("üé😀\0").Shape);
    }

    [Fact]
    public void PyTorchsInt8Int16AndBoolConvert()
    {
        var expected = JsonDocument.Parse(File.ReadAllText(SafeTensorsReadTests.Fixture("dtypes_extra.json"))).RootElement;
        using var file = SafeTensorsFile.Open(SafeTensorsReadTests.Fixture("dtypes_extra.safetensors"));
        Assert.Equal([SafeTensorsDType.I8, SafeTensorsDType.I16, SafeTensorsDType.BOOL], file.Entries.Select(e => e.DType));
        foreach (var e in file.Entries)
        {
            var values = expected.GetProperty(e.Name).GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal(values, file.ReadTensor(e.Name).ToArray());
            Assert.Equal(values.Select(v => (long)v), file.ReadLongTensor(e.Name).ToArray());
        }
    }

    [Fact]
    public void UnsignedAndFloat8TypesConvertAsTheirSpecificationsSay()
    {
        using (var f = SafeTensorsFile.Open(One("U16", 2, [0xFF, 0xFF, 1, 0]))) Assert.Equal([65535L, 1], f.ReadLongTensor("t").ToArray());
        using (var f = SafeTensorsFile.Open(One("U32", 1, [0xFF, 0xFF, 0xFF, 0xFF]))) Assert.Equal([4294967295L], f.ReadLongTensor("t").ToArray());
        using (var f = SafeTensorsFile.Open(One("U64", 1, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])))
        {
            Assert.Equal(1.8446744e19f, f.ReadTensor("t").Item());
            Assert.Contains("U64 values up to", Assert.Throws<SafeTensorsException>(() => f.ReadLongTensor("t")).Message);
        }
        // OFP8: E4M3 0x7E = 448 (its max), 0x08 = 2^-6, 0x01 = 2^-9, 0xB8 = -1, 0x7F = NaN; E5M2 0x7B = 57344, 0x3C = 1, 0x7C = inf, 0x01 = 2^-16.
        using (var f = SafeTensorsFile.Open(One("F8_E4M3", 5, [0x7E, 0x08, 0x01, 0xB8, 0x7F])))
            Assert.Equal([448f, 1f / 64, 1f / 512, -1f, float.NaN], f.ReadTensor("t").ToArray());
        using (var f = SafeTensorsFile.Open(One("F8_E5M2", 4, [0x7B, 0x3C, 0x7C, 0x01])))
            Assert.Equal([57344f, 1f, float.PositiveInfinity, 1f / 65536], f.ReadTensor("t").ToArray());
    }

    /// <summary>Tensors larger than the 1 MB conversion buffer are read in chunks (F16 to float, I32 to long, F32 straight).</summary>
    [Fact]
    public void TensorsLargerThanTheReadBufferConvertEveryChunk()
    {
        const int n = 700_001;
        var half = new byte[2 * n];
        var ints = new byte[4 * n];
        for (int i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(half.AsSpan(2 * i), (Half)(i % 2048));
            BinaryPrimitives.WriteInt32LittleEndian(ints.AsSpan(4 * i), i - 5);
        }
        string header = $"{{\"h\":{{\"dtype\":\"F16\",\"shape\":[{n}],\"data_offsets\":[0,{2 * n}]}},\"i\":{{\"dtype\":\"I32\",\"shape\":[{n}],\"data_offsets\":[{2 * n},{6 * n}]}}}}";
        using var f = SafeTensorsFile.Open(Write(header, [.. half, .. ints]));
        var h = f.ReadTensor("h").ToArray();
        var l = f.ReadLongTensor("i").ToArray();
        for (int i = 0; i < n; i++)
        {
            if (h[i] != i % 2048) Assert.Fail($"h[{i}] = {h[i]}");
            if (l[i] != i - 5) Assert.Fail($"i[{i}] = {l[i]}");
        }
    }

    private static Sequential Net(int classes) => new(new Conv2d(2, 3, 3), new BatchNorm2d(3), new Linear(3, classes));

    [Fact]
    public void AnotherHeadIsReportedWithEveryProblemAtOnceOrSkippedOnRequest()
    {
        var path = PathOf("head.safetensors");
        var source = Net(5);
        SafeTensors.Save(path, SafeTensors.StateDictEntries(source).Where(e => e.Name != "1.num_batches_tracked")
            .Append(SafeTensorsEntry.Float("extra", Tensor.Ones(1))));
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.LoadStateDict(path, Net(2)));
        Assert.Contains("Unexpected key(s) in state_dict: \"extra\"", e.Message);
        Assert.Contains("Missing key(s) in state_dict: \"1.num_batches_tracked\"", e.Message);
        Assert.Contains("size mismatch for 2.weight: copying a param with shape [5, 3]", e.Message);
        Assert.Contains("size mismatch for 2.bias", e.Message);

        var target = Net(2);
        var head = target.StateDict().Single(kv => kv.Key == "2.weight").Value.ToArray();
        var r = SafeTensors.LoadStateDict(path, target, strict: false, skipMismatched: true);
        Assert.Equal(["2.weight [5, 3] (model [2, 3])", "2.bias [5] (model [2])"], r.SkippedKeys);
        Assert.Equal(["1.num_batches_tracked"], r.MissingKeys);
        Assert.Equal(["extra"], r.UnexpectedKeys);
        Assert.Equal(source.StateDict()[0].Value.ToArray(), target.StateDict()[0].Value.ToArray());
        Assert.Equal(head, target.StateDict().Single(kv => kv.Key == "2.weight").Value.ToArray());
    }
}
