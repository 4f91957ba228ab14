using ConvKit.Data;
using Xunit;

namespace ConvKit.Tests.Data;

/// <summary>
/// The real test split when Debian's dataset-fashion-mnist is installed (the test returns early when it is
/// not, so CI does not need the package), the directory resolution, and the message for missing files.
/// One class, so the tests that set CONVKIT_FASHION_MNIST never run alongside each other.
/// </summary>
public class FashionMnistTests
{
    [Fact]
    public void TheDebianTestSplitHas1000ImagesPerClass()
    {
        if (!File.Exists(Path.Combine(FashionMnist.DebianDirectory, "t10k-images-idx3-ubyte.gz"))) return;
        var test = FashionMnist.Load(FashionMnist.DebianDirectory, train: false);
        Assert.Equal([10000, 1, 28, 28], test.Images.Shape);
        var pixels = test.Images.ToArray();
        Assert.Equal(0f, pixels.Min());
        Assert.Equal(1f, pixels.Max());
        Assert.Equal(Enumerable.Repeat(1000, 10), test.Labels.ToArray().GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count()));
    }

    [Fact]
    public void AMissingDirectorySaysWhatWasLookedForAndHowToFixIt()
    {
        var e = Assert.Throws<DatasetNotFoundException>(() => FashionMnist.Load("/nonexistent/fashion"));
        Assert.IsAssignableFrom<FileNotFoundException>(e);
        Assert.Equal("/nonexistent/fashion/train-images-idx3-ubyte.gz", e.FileName);
        foreach (var fragment in new[]
        {
            "training split", "/nonexistent/fashion/train-images-idx3-ubyte.gz", "/nonexistent/fashion/train-images-idx3-ubyte ",
            "from the directory argument, which does not exist", "apt-get install dataset-fashion-mnist",
            "FashionMnist.Load(directory)", "CONVKIT_FASHION_MNIST",
        })
            Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void TheEnvironmentVariableNamesADirectoryOfPlainOrGzipFiles()
    {
        using var dir = new TempDir();
        dir.Write("t10k-images-idx3-ubyte", IdxBytes.Images(3, 28, 28, i => (byte)i));
        dir.Write("t10k-labels-idx1-ubyte.gz", IdxBytes.Gzip(IdxBytes.Labels(9, 0, 4)));
        var saved = Environment.GetEnvironmentVariable(FashionMnist.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, dir.Path);
            var test = FashionMnist.Load(train: false);
            Assert.Equal([3, 1, 28, 28], test.Images.Shape);
            Assert.Equal([9L, 0, 4], test.Labels.ToArray());

            var e = Assert.Throws<DatasetNotFoundException>(() => FashionMnist.Load());
            Assert.Contains($"looked in {dir.Path}, from $CONVKIT_FASHION_MNIST)", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, saved);
        }
    }

    [Fact]
    public void MismatchedCountsAndForeignLabelsAreRejected()
    {
        using var dir = new TempDir();
        dir.Write("train-images-idx3-ubyte", IdxBytes.Images(2, 28, 28, i => 0));
        dir.Write("train-labels-idx1-ubyte", IdxBytes.Labels(1, 2, 3));
        Assert.Contains("holds 2 images but", Assert.Throws<DataFormatException>(() => FashionMnist.Load(dir.Path)).Message);
        dir.Write("train-labels-idx1-ubyte", IdxBytes.Labels(1, 12));
        Assert.Contains("label 12 at index 1; expected 0 to 9", Assert.Throws<DataFormatException>(() => FashionMnist.Load(dir.Path)).Message);
    }
}
