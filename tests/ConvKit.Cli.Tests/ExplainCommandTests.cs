using Xunit;

namespace ConvKit.Cli.Tests;

public class ExplainCommandTests : CliTestBase
{
    /// <summary>shared/reference/002 (conv as matrix): X 3x3, K = [[1, 2], [3, 4]], kernel2matrix(K) is this 4x9 W.</summary>
    private static readonly string[] TutorialW =
    [
        "1 2 0 3 4 0 0 0 0",
        "0 1 2 0 3 4 0 0 0",
        "0 0 0 1 2 0 3 4 0",
        "0 0 0 0 1 2 0 3 4",
    ];

    [Fact]
    public void ConvPrintsTheShapeArithmeticAndTheTutorialsMatrix()
    {
        var (code, stdout, _) = Run("explain", "conv", "--in-channels", "1", "--out-channels", "1", "--input", "3x3", "--kernel", "2x2");
        Assert.Equal(0, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("H_out = floor((H + 2·pad − dil·(k−1) − 1)/stride) + 1 = floor((3 + 0 − 1 − 1)/1) + 1 = 2", lines);
        Assert.Contains("W_out = floor((W + 2·pad − dil·(k−1) − 1)/stride) + 1 = floor((3 + 0 − 1 − 1)/1) + 1 = 2", lines);
        Assert.Contains("output [1, 1, 2, 2]", lines);
        Assert.StartsWith("W [4 x 9]", lines[^5]);
        Assert.Equal(TutorialW, lines[^4..]);
    }

    [Fact]
    public void ExplicitWeightGivesTheSameMatrix()
    {
        var (code, stdout, _) = Run("explain", "conv", "--input", "3", "--kernel", "2", "--weight", "1,2,3,4");
        Assert.Equal(0, code);
        Assert.Equal(TutorialW, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^4..]);
    }

    [Fact]
    public void TransposedPrintsTheTransposeAndItsShapeFormula()
    {
        var (code, stdout, _) = Run("explain", "conv", "--input", "2x2", "--kernel", "2x2", "--transposed");
        Assert.Equal(0, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("H_out = (H−1)·stride − 2·pad + dil·(k−1) + output_padding + 1 = (2−1)·1 − 0 + 1 + 0 + 1 = 3", lines);
        Assert.StartsWith("Wᵀ [9 x 4]", lines[^10]);
        var transposed = Enumerable.Range(0, 9).Select(c => string.Join(" ", TutorialW.Select(row => row.Split(' ')[c]))).ToArray();
        Assert.Equal(transposed, lines[^9..]);
    }

    [Fact]
    public void StridePaddingAndDilationEnterTheFormula()
    {
        var (code, stdout, _) = Run("explain", "conv", "--input", "7x5", "--kernel", "3", "--stride", "2", "--padding", "1x0", "--dilation", "2");
        Assert.Equal(0, code);
        Assert.Contains("= floor((7 + 2 − 4 − 1)/2) + 1 = 3", stdout);
        Assert.Contains("= floor((5 + 0 − 4 − 1)/2) + 1 = 1", stdout);
        Assert.Contains("W [3 x 35]", stdout);
    }

    [Fact]
    public void LargeMatricesAreNotPrinted()
    {
        var (code, stdout, _) = Run("explain", "conv", "--input", "32x32", "--kernel", "3", "--in-channels", "3", "--out-channels", "8");
        Assert.Equal(0, code);
        Assert.Contains("output [1, 8, 30, 30]", stdout);
        Assert.Contains("W is 7200 x 3072: too large to print", stdout);
    }

    [Fact]
    public void InvalidGeometryIsTheCoresMessageOnOneLine()
    {
        AssertFails(Run("explain", "conv", "--input", "2x2", "--kernel", "3x3"), "explain conv", "Kernel size can't be greater than actual input size");
        AssertFails(Run("explain", "conv", "--input", "2x2", "--kernel", "2", "--transposed", "--stride", "2", "--output-padding", "2"),
            "explain conv", "output padding must be smaller than either stride or dilation");
        AssertFails(Run("explain", "conv", "--input", "3x", "--kernel", "2"), "explain conv", "--input: expected N or HxW, got '3x'");
        AssertFails(Run("explain", "conv", "--input", "3", "--kernel", "2", "--weight", "1,2,3"), "explain conv", "--weight has 3 values");
        AssertFails(Run("explain", "conv", "--input", "3", "--kernel", "2", "--in-channels", "3", "--groups", "2"), "explain conv", "divisible by groups");
    }
}
