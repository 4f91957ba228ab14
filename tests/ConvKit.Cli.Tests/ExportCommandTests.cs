using ConvKit.Onnx;
using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Cli.Tests;

/// <summary>convkit export writes ONNX that ConvKit re-imports with the same outputs, and that convkit run uses.</summary>
public class ExportCommandTests : CliTestBase
{
    [Fact]
    public void ExportedUNetReimportsWithTheCheckpointsOutputsAndRunsLikePredict()
    {
        string ck = UNetCheckpoint();
        var (code, stdout, stderr) = Run("export", "--checkpoint", ck, "--out", PathOf("unet.onnx"), "--input-size", "16x16");
        Assert.True(code == 0, stderr);
        Assert.Contains("unet-small [1, 3, 16, 16] ->", stdout);
        Assert.Contains("--classes background,circle,rectangle,triangle", stdout);
        var model = ConvKit.Vision.Models.TrainedModel.Load(ck);
        var graph = OnnxModel.Load(PathOf("unet.onnx"));
        var x = Tensor.Randn([1, 3, 16, 16], new Generator(4));
        Tensor a, b;
        using (Autograd.NoGrad()) { a = model.Module.Forward(x); b = graph.Eval().Forward(x); }
        var d = a.ToArray().Zip(b.ToArray(), (p, q) => Math.Abs(p - q)).Max();
        Assert.True(d < 1e-4, $"max difference {d}");

        string image = SaveImage("img.png", 16, 16, 3);
        Assert.Equal(0, Run("predict", "--checkpoint", ck, "--input", image, "--out", PathOf("p")).Code);
        var m = model.Mean.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var s = model.Std.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, Run("run", PathOf("unet.onnx"), "--input", image, "--out", PathOf("r"), "--mean", string.Join(",", m), "--std", string.Join(",", s)).Code);
        Assert.Equal(ImageFile.ReadIndexed(Path.Combine(PathOf("p"), "img_mask.png")).Data, ImageFile.ReadIndexed(Path.Combine(PathOf("r"), "img_mask.png")).Data);
    }

    [Fact]
    public void BadInputSizeFailsWithOneLine()
    {
        AssertFails(Run("export", "--checkpoint", UNetCheckpoint(), "--out", PathOf("x.onnx"), "--input-size", "16"), "export", "expected HxW");
        Assert.False(File.Exists(PathOf("x.onnx")));
    }
}
