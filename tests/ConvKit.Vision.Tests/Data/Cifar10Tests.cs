using ConvKit.Data;
using ConvKit.Vision.Data;
using Xunit;

namespace ConvKit.Vision.Tests.Data;

/// <summary>CIFAR-10 binary batches, from small fake files in a temporary folder.</summary>
public sealed class Cifar10Tests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("convkit-cifar-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Record r of a file: label <paramref name="label"/>, pixel (c, y, x) = (seed + 7c + 3y + x) mod 256.</summary>
    private static byte[] Record(byte label, int seed)
    {
        var r = new byte[Cifar10.RecordBytes];
        r[0] = label;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++) r[1 + c * 1024 + y * 32 + x] = (byte)(seed + 7 * c + 3 * y + x);
        return r;
    }

    private string WriteSplits(string? sub = Cifar10.FolderName)
    {
        var dir = sub is null ? _root : Directory.CreateDirectory(Path.Combine(_root, sub)).FullName;
        for (int b = 1; b <= 5; b++)
            File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b}.bin"), [.. Record((byte)(b % 10), 10 * b), .. Record((byte)((b + 4) % 10), 10 * b + 1)]);
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), [.. Record(9, 200), .. Record(0, 201), .. Record(3, 202)]);
        return dir;
    }

    [Theory]
    [InlineData(Cifar10.FolderName)]
    [InlineData(null)]
    public void DecodesRecordsInFileOrderWithPlanarRgb(string? sub)
    {
        WriteSplits(sub);
        var train = Cifar10.Load(_root, train: true);
        Assert.Equal(10, train.Count);
        Assert.Equal([10, 3, 32, 32], train.Images.Shape);
        Assert.Equal([1L, 5, 2, 6, 3, 7, 4, 8, 5, 9], train.Labels.ToArray());
        var (image, label) = train[3];
        Assert.Equal(6L, label);
        // Record 3 is data_batch_2's second record: seed 21.
        Assert.Equal((byte)(21 + 7 * 2 + 3 * 5 + 4) / 255f, image[2, 5, 4]);
        Assert.Equal(21 / 255f, image[0, 0, 0]);
        Assert.All(train.Images.ToArray(), v => Assert.InRange(v, 0f, 1f));
        var test = Cifar10.Load(_root, train: false);
        Assert.Equal([9L, 0, 3], test.Labels.ToArray());
        Assert.Equal((byte)(202 + 7 + 31) / 255f, test[2].Image[1, 0, 31]);
    }

    [Fact]
    public void ClassNamesComeFromTheMetaFileOrTheStandardList()
    {
        var dir = WriteSplits();
        Assert.Equal(Cifar10.Classes, Cifar10.ClassNames(_root));
        Assert.Equal("airplane", Cifar10.Classes[0]);
        File.WriteAllText(Path.Combine(dir, "batches.meta.txt"), string.Join("\n", Enumerable.Range(0, 10).Select(i => $"c{i}")) + "\n\n");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"c{i}"), Cifar10.ClassNames(_root));
        File.WriteAllText(Path.Combine(dir, "batches.meta.txt"), "one\ntwo\n");
        Assert.Contains("expected 10 class names", Assert.Throws<DataFormatException>(() => Cifar10.ClassNames(_root)).Message);
    }

    [Fact]
    public void TruncatedFileIsReportedWithItsLength()
    {
        var dir = WriteSplits();
        var path = Path.Combine(dir, "test_batch.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..(2 * Cifar10.RecordBytes + 100)]);
        var e = Assert.Throws<DataFormatException>(() => Cifar10.Load(_root, train: false));
        Assert.Contains("test_batch.bin", e.Message);
        Assert.Contains($"expected a positive multiple of 3073 bytes", e.Message);
        Assert.Contains($"got {2 * 3073 + 100} bytes (2 whole records and 100 bytes left over", e.Message);
        File.WriteAllBytes(path, []);
        Assert.Throws<DataFormatException>(() => Cifar10.Load(_root, train: false));
    }

    [Fact]
    public void LabelOutsideZeroToNineIsReportedWithItsRecord()
    {
        var dir = WriteSplits();
        File.WriteAllBytes(Path.Combine(dir, "data_batch_3.bin"), [.. Record(2, 0), .. Record(10, 0)]);
        var e = Assert.Throws<DataFormatException>(() => Cifar10.Load(_root));
        Assert.Contains("data_batch_3.bin: record 1 (byte offset 3073) has label 10; expected 0 to 9", e.Message);
    }

    [Fact]
    public void MissingFilesShowTheExpectedLayout()
    {
        var e = Assert.Throws<DatasetNotFoundException>(() => Cifar10.Load(Path.Combine(_root, "nowhere")));
        Assert.Contains("data_batch_1.bin was not found", e.Message);
        Assert.Contains("does not exist", e.Message);
        Assert.Contains("cifar-10-batches-bin/", e.Message);
        Assert.Contains("test_batch.bin", e.Message);
        var dir = WriteSplits();
        File.Delete(Path.Combine(dir, "data_batch_4.bin"));
        e = Assert.Throws<DatasetNotFoundException>(() => Cifar10.Load(_root));
        Assert.Contains($"data_batch_4.bin was not found in {dir}", e.Message);
        Assert.EndsWith("data_batch_4.bin", e.FileName);
        Assert.Equal(3, Cifar10.Load(_root, train: false).Count);
    }
}
