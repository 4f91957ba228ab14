using System.Globalization;
using ConvKit.Onnx;
using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Cli.Tests;

/// <summary>convkit run on PyTorch-exported ONNX models (the import tests' fixtures): masks, classes and errors.</summary>
public class RunCommandTests : CliTestBase
{
    private static string Onnx(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name);

    [Fact]
    public void SegmentationModelWritesAMaskThatIsTheArgmaxOfTheGraph()
    {
        string image = SaveImage("in.png", 32, 32, 3);
        var (code, stdout, stderr) = Run("run", Onnx("seedunet_small.onnx"), "--input", image, "--out", PathOf("out"), "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25");
        Assert.True(code == 0, stderr);
        Assert.Contains("in_mask.png", stdout);
        var mask = ImageFile.ReadIndexed(Path.Combine(PathOf("out"), "in_mask.png")).ToClassIds();

        var graph = OnnxModel.Load(Onnx("seedunet_small.onnx"));
        var x = (ImageFile.Read(image).ToTensor(3) - 0.5f) / 0.25f;
        Tensor y;
        using (Autograd.NoGrad()) y = graph.Forward(x.Unsqueeze(0));
        Assert.Equal(y.Argmax(1).ToArray(), mask.ToArray());
        Assert.Equal(3, ImageFile.Read(Path.Combine(PathOf("out"), "in_overlay.png")).Channels);
    }

    [Fact]
    public void ImagesOfAnotherSizeAreResizedToTheFixedInputAndTheMaskBack()
    {
        string image = SaveImage("odd.png", 45, 27, 3);
        var (code, _, stderr) = Run("run", Onnx("seedunet_small.onnx"), "--input", image, "--out", PathOf("out"));
        Assert.True(code == 0, stderr);
        var mask = ImageFile.ReadIndexed(Path.Combine(PathOf("out"), "odd_mask.png"));
        Assert.Equal((45, 27), (mask.Width, mask.Height));
    }

    [Fact]
    public void ClassifierPrintsTheTopClassWithItsProbability()
    {
        string image = SaveImage("grey.png", 28, 28, 1);
        var (code, stdout, stderr) = Run("run", Onnx("smallsecnn.onnx"), "--input", image, "--classes", string.Join(",", Enumerable.Range(0, 10).Select(i => $"c{i}")));
        Assert.True(code == 0, stderr);
        var graph = OnnxModel.Load(Onnx("smallsecnn.onnx"));
        Tensor y;
        using (Autograd.NoGrad()) y = F.Softmax(graph.Forward(ImageFile.Read(image).ToTensor(1).Unsqueeze(0)), 1);
        var p = y.ToArray();
        int best = Array.IndexOf(p, p.Max());
        Assert.Contains($"grey.png: c{best} (p={p[best].ToString("F2", CultureInfo.InvariantCulture)})", stdout);
    }

    [Fact]
    public void BadModelsAndOptionsFailWithOneLine()
    {
        string image = SaveImage("in.png", 8, 8, 3);
        AssertFails(Run("run", PathOf("none.onnx"), "--input", image), "run", "none.onnx");
        File.WriteAllBytes(PathOf("junk.onnx"), [0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]);
        AssertFails(Run("run", PathOf("junk.onnx"), "--input", image), "run", "junk.onnx");
        AssertFails(Run("run", Onnx("seedunet_small.onnx"), "--input", image, "--mean", "0.5"), "run", "--mean: expected 3 comma-separated numbers");
        AssertFails(Run("run", Onnx("seedunet_small.onnx"), "--input", image, "--std", "1,0,1"), "run", "--std: expected positive numbers");
    }
}
