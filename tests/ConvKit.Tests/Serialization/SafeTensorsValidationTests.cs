using System.Buffers.Binary;
using System.Text;
using ConvKit.Serialization;
using Xunit;

namespace ConvKit.Tests.Serialization;

/// <summary>Untrusted files: every malformed header or layout is a SafeTensorsException that says what was expected.</summary>
public class SafeTensorsValidationTests : TempDirectory
{
    private string Write(string header, int dataBytes, ulong? declaredLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        var path = PathOf(Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static TheoryData<string, int, string> BadHeaders() => new()
    {
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "invalid JSON" },
        { "[1,2]", 0, "begin with '{'" },
        { "{\"a\":{\"dtype\":\"Q8\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "expected dtype one of" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "non-negative" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "non-negative" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12, "needs 8 bytes" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "0 <= begin <= end" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "truncated" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "trailing bytes" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "belong to no tensor" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "unique" },
        { "{\"__metadata__\":{\"k\":3}}", 0, "to be a string" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,8]}}", 8, "more than" },
        { "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, "at most 16" },
        { "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}", 0, "invalid JSON" },
    };

    [Theory, MemberData(nameof(BadHeaders))]
    public void MalformedHeaderIsATypedErrorSayingWhatWasExpected(string header, int dataBytes, string expected)
    {
        var path = Write(header, dataBytes);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void HeaderLengthBeyondTheFileOrTheFormatLimitFailsBeforeAllocating()
    {
        var tooLong = Write("{}", 0, declaredLength: ulong.MaxValue);
        Assert.Contains("exceeds", Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(tooLong)).Message);
        var beyond = Write("{}", 0, declaredLength: 1000);
        Assert.Contains("the 2 bytes that follow", Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(beyond)).Message);
        var tiny = PathOf("tiny");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        Assert.Contains("at least the 8-byte", Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(tiny)).Message);
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(PathOf("missing")));
    }

    [Fact]
    public void EmptyHeaderIsAValidEmptyFile()
    {
        using var f = SafeTensorsFile.Open(Write("{}      ", 0));
        Assert.Empty(f.Entries);
    }

    /// <summary>
    /// Seeded mutations of a valid PyTorch-written file (byte flips, truncation, a rewritten header length, spliced
    /// bytes, and header rewrites that keep the JSON valid: numbers replaced by huge or negative ones, names by odd
    /// or invalid unicode, dtypes swapped): opening and reading every tensor either succeeds or throws ConvKit's
    /// typed error, nothing else, and never allocates more than a few megabytes.
    /// </summary>
    [Fact]
    public void FuzzedFilesOnlyEverRaiseSafeTensorsException()
    {
        var original = File.ReadAllBytes(SafeTensorsReadTests.Fixture("dtypes.safetensors"));
        var rng = new Random(20261122);
        var path = PathOf("fuzz.safetensors");
        int rejected = 0;
        for (int round = 0; round < 4000; round++)
        {
            var bytes = Mutate(original, rng);
            File.WriteAllBytes(path, bytes);
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var f = SafeTensorsFile.Open(path);
                foreach (var e in f.Entries) f.ReadTensor(e.Name);
            }
            catch (SafeTensorsException)
            {
                rejected++;
            }
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocated, 0, 4 << 20);
        }
        Assert.InRange(rejected, 1000, 4000);
    }

    private static byte[] Mutate(byte[] src, Random rng)
    {
        var b = (byte[])src.Clone();
        int headerEnd = 8 + (int)BitConverter.ToUInt64(src, 0);
        switch (rng.Next(8))
        {
            case 0:
                for (int i = rng.Next(1, 4); i > 0; i--) b[rng.Next(headerEnd)] = (byte)rng.Next(256);
                return b;
            case 1:
                return b[..rng.Next(b.Length)];
            case 2:
                BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)rng.NextInt64(0, long.MaxValue) >> rng.Next(64));
                return b;
            case 3:
                int at = rng.Next(8, headerEnd);
                var digits = Encoding.ASCII.GetBytes(rng.Next(1, 1 << 30).ToString());
                return [.. b[..at], .. digits, .. b[at..]];
            case 4:
                b[rng.Next(8, headerEnd)] = (byte)"{}[],:\"0123456789-"[rng.Next(18)];
                return b;
            case 5:
                return RewriteHeader(src, @"-?\d+", rng, HugeNumbers);
            case 6:
                return RewriteHeader(src, "(?<=\")[^\"]+(?=\":\\{\"dtype)", rng, OddNames);
            default:
                return RewriteHeader(src, "(?<=\"dtype\":\")[A-Z0-9_]+", rng, ["F32", "F16", "BF16", "F64", "I64", "U8", "BOOL", "F8_E4M3", "C64", "f32", ""]);
        }
    }

    private static readonly string[] HugeNumbers =
        ["9223372036854775807", "9223372036854775808", "18446744073709551615", "-1", "-9223372036854775808", "1e308", "4294967296",
         "2147483647", "2147483648", "0", "1.5", "99999999999999999999999"];

    private static readonly string[] OddNames =
        ["\\ud800", "\\udfff\\ud800", "\\u0000", "é\\u0301", "😀", "\\u202e", "", "__metadata__", "\\\"", "a\\u0000b", "\\uFFFF"];

    /// <summary>Replaces one regex match in the header JSON by one of <paramref name="with"/> and rewrites the header length.</summary>
    private static byte[] RewriteHeader(byte[] src, string pattern, Random rng, string[] with)
    {
        int n = (int)BitConverter.ToUInt64(src, 0);
        var header = Encoding.UTF8.GetString(src, 8, n);
        var matches = System.Text.RegularExpressions.Regex.Matches(header, pattern);
        if (matches.Count == 0) return src;
        var m = matches[rng.Next(matches.Count)];
        var h = Encoding.UTF8.GetBytes(header[..m.Index] + with[rng.Next(with.Length)] + header[(m.Index + m.Length)..]);
        var b = new byte[8 + h.Length + src.Length - 8 - n];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        src.AsSpan(8 + n).CopyTo(b.AsSpan(8 + h.Length));
        return b;
    }
}
