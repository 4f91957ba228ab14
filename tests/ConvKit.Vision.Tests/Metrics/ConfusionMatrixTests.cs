using System.Text.Json;
using ConvKit.Vision.Metrics;
using Xunit;

namespace ConvKit.Vision.Tests.Metrics;

/// <summary>ConfusionMatrix: hand-computed cases, torchvision's reference values (tools/golden/gen_metrics.py), errors.</summary>
public class ConfusionMatrixTests
{
    private static LongTensor L(long[] data, params int[] shape) => LongTensor.FromArray(data, shape);

    [Fact]
    public void HandComputedTwoByThreeCase()
    {
        // targets    0 0 1      predictions 0 1 1
        //            2 2 255                2 0 1   (the 255 pixel is skipped whatever its prediction)
        var cm = new ConfusionMatrix(3);
        cm.Update(L([0, 1, 1, 2, 0, 1], 1, 2, 3), L([0, 0, 1, 2, 2, 255], 1, 2, 3));
        Assert.Equal(new long[,] { { 1, 1, 0 }, { 0, 1, 0 }, { 1, 0, 1 } }, cm.Matrix);
        Assert.Equal(5, cm.Total);
        Assert.Equal(3.0 / 5, cm.PixelAccuracy, 12);
        Assert.Equal(cm.PixelAccuracy, cm.Accuracy);
        Assert.Equal([0.5, 1.0, 0.5], cm.ClassAccuracy);
        // IoU: class 0 TP 1 / (row 2 + col 2 - 1) = 1/3; class 1: 1 / (1 + 2 - 1) = 1/2; class 2: 1 / (2 + 1 - 1) = 1/2.
        Assert.Equal([1.0 / 3, 0.5, 0.5], cm.IoU);
        Assert.Equal((1.0 / 3 + 0.5 + 0.5) / 3, cm.MeanIoU, 12);
        Assert.Equal(1, cm[2, 0]);
    }

    [Fact]
    public void AbsentClassIsExcludedFromTheMeanAndIsNaNPerClass()
    {
        var cm = new ConfusionMatrix(4);
        cm.Update(L([0, 1, 1, 0], 4), L([0, 1, 0, 0], 4));
        Assert.True(double.IsNaN(cm.IoU[2]) && double.IsNaN(cm.IoU[3]));
        Assert.True(double.IsNaN(cm.ClassAccuracy[3]));
        Assert.Equal((2.0 / 3 + 1.0 / 2) / 2, cm.MeanIoU, 12);
        Assert.True(double.IsNaN(new ConfusionMatrix(2).MeanIoU));
        Assert.True(double.IsNaN(new ConfusionMatrix(2).PixelAccuracy));
    }

    [Fact]
    public void LogitsAreArgmaxedOverTheClassDimension()
    {
        // [N=1, C=2, H=1, W=3]: class 1 wins at positions 0 and 2.
        var logits = Tensor.FromArray([0f, 5f, -1f, 1f, 2f, 3f], 1, 2, 1, 3);
        var cm = new ConfusionMatrix(2);
        cm.Update(logits, L([1, 0, 0], 1, 1, 3));
        Assert.Equal(new long[,] { { 1, 1 }, { 0, 1 } }, cm.Matrix);
        var cls = new ConfusionMatrix(3);
        cls.Update(Tensor.FromArray([1f, 0f, 0f, 0f, 0f, 2f], 2, 3), L([0, 1], 2));
        Assert.Equal(0.5, cls.Accuracy);
    }

    [Fact]
    public void MergeAddsCountsAndResetClears()
    {
        var a = new ConfusionMatrix(3);
        var b = new ConfusionMatrix(3);
        var both = new ConfusionMatrix(3);
        a.Update(L([0, 1, 2], 3), L([0, 2, 2], 3));
        b.Update(L([1, 1], 2), L([1, 0], 2));
        both.Update(L([0, 1, 2, 1, 1], 5), L([0, 2, 2, 1, 0], 5));
        a.Merge(b);
        Assert.Equal(both.Matrix, a.Matrix);
        Assert.Throws<ArgumentException>(() => a.Merge(new ConfusionMatrix(4)));
        a.Reset();
        Assert.Equal(0, a.Total);
    }

    public static TheoryData<string> GoldenCases() => new(Golden().Select(c => c.GetProperty("name").GetString()!));

    private static IEnumerable<JsonElement> Golden() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics", "metrics.json")))
            .RootElement.GetProperty("cases").EnumerateArray();

    private static int[] Shape(JsonElement t) => t.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static double Num(JsonElement v) => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble();

    private static double[] Doubles(JsonElement a) => a.EnumerateArray().Select(Num).ToArray();

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void MatchesTorchvisionsReferenceConfusionMatrix(string name)
    {
        var c = Golden().Single(e => e.GetProperty("name").GetString() == name);
        int n = c.GetProperty("num_classes").GetInt32();
        var t = c.GetProperty("target");
        var targets = L(t.GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ToArray(), Shape(t));
        var cm = new ConfusionMatrix(n);
        if (c.TryGetProperty("logits", out var lg))
            cm.Update(Tensor.FromArray(lg.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray(), Shape(lg)), targets);
        else
        {
            var p = c.GetProperty("prediction");
            cm.Update(L(p.GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ToArray(), Shape(p)), targets);
        }
        Assert.Equal(c.GetProperty("matrix").EnumerateArray().Select(v => v.GetInt64()), cm.Matrix.Cast<long>());
        AssertClose(Doubles(c.GetProperty("iou")), cm.IoU);
        AssertClose(Doubles(c.GetProperty("class_accuracy")), cm.ClassAccuracy);
        AssertClose([Num(c.GetProperty("pixel_accuracy"))], [cm.PixelAccuracy]);
        AssertClose([Num(c.GetProperty("nanmean_iou"))], [cm.MeanIoU]);
        // torchvision's printed mean IoU (iu.mean()) agrees whenever it is defined, i.e. every class appears.
        double tv = Num(c.GetProperty("torchvision_mean_iou"));
        if (!double.IsNaN(tv)) AssertClose([tv], [cm.MeanIoU]);
        else Assert.Contains(cm.IoU, double.IsNaN);
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(double.IsNaN(expected[i]) ? double.IsNaN(actual[i]) : Math.Abs(expected[i] - actual[i]) < 1e-6,
                $"[{i}]: expected {expected[i]} (torchvision, float32), got {actual[i]}");
    }

    [Fact]
    public void BadTargetsAndPredictionsNameValuePositionAndClassCount()
    {
        var cm = new ConfusionMatrix(3);
        var e = Assert.Throws<ArgumentException>(() => cm.Update(L([0, 1, 2, 0], 1, 2, 2), L([0, 1, 7, 0], 1, 2, 2)));
        Assert.Contains("target value 7 at position [0, 1, 0] of [1, 2, 2]", e.Message);
        Assert.Contains("numClasses = 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => cm.Update(L([0, -1], 2), L([0, 1], 2)));
        Assert.Contains("prediction value -1 at position [1]", e.Message);
        Assert.Throws<ArgumentException>(() => cm.Update(L([0, 1, 2], 3), L([0, -1, 2], 3)));
        Assert.Equal(0, cm.Total);
    }

    [Fact]
    public void ShapeMismatchesThrow()
    {
        var cm = new ConfusionMatrix(2);
        var e = Assert.Throws<ArgumentException>(() => cm.Update(L([0, 1, 0, 1], 1, 2, 2), L([0, 1, 0, 1], 1, 4)));
        Assert.Contains("got predictions [1, 2, 2] and targets [1, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => cm.Update(Tensor.Zeros(1, 3, 2, 2), L([0, 1, 0, 1], 1, 2, 2)));
        Assert.Contains("expected logits [N, 2, H, W]", e.Message);
        Assert.Throws<ArgumentException>(() => cm.Update(Tensor.Zeros(1, 2, 2, 2), L([0, 1, 0], 1, 3)));
        Assert.Throws<ArgumentException>(() => cm.Update(Tensor.Zeros(2), L([0, 1], 2)));
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix(0));
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix(3, ignoreIndex: 1));
    }

    [Fact]
    public void FormatPrintsATableWithNames()
    {
        var cm = new ConfusionMatrix(3);
        cm.Update(L([0, 1, 1], 3), L([0, 1, 0], 3));
        var text = cm.Format(["background", "circle", "rectangle"]);
        Assert.Contains("background", text);
        Assert.Contains("rectangle", text);
        Assert.Contains("pixel accuracy 66.7", text);
        Assert.Contains("mean IoU 50.0", text);
        Assert.Throws<ArgumentException>(() => cm.Format(["a"]));
    }
}
