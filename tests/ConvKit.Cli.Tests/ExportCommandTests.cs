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

    /// <summary>
    /// predict and run give each image of a folder the mask it gets alone: each image runs in its own tensor scope (the
    /// tests poison released storage, so a tensor read after its scope ended would show as NaN and change the masks).
    /// </summary>
    [Fact]
    public void FolderPredictionsMatchSingleImageOnes()
    {
        string ck = UNetCheckpoint();
        Assert.Equal(0, Run("export", "--checkpoint", ck, "--out", PathOf("unet.onnx"), "--input-size", "16x16").Code);
        var model = ConvKit.Vision.Models.TrainedModel.Load(ck);
        var m = string.Join(",", model.Mean.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var s = string.Join(",", model.Std.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Directory.CreateDirectory(PathOf("in"));
        SaveImage("in/a.png", 16, 16, 3, seed: 5);
        SaveImage("in/b.png", 16, 16, 3, seed: 6);
        SaveImage("in/c.png", 16, 16, 3, seed: 5);
        string single = SaveImage("alone.png", 16, 16, 3, seed: 5);
        Assert.Equal(0, Run("predict", "--checkpoint", ck, "--input", PathOf("in"), "--out", PathOf("p")).Code);
        Assert.Equal(0, Run("predict", "--checkpoint", ck, "--input", single, "--out", PathOf("p1")).Code);
        Assert.Equal(0, Run("run", PathOf("unet.onnx"), "--input", PathOf("in"), "--out", PathOf("r"), "--mean", m, "--std", s).Code);
        byte[] Mask(string dir, string name) => ImageFile.ReadIndexed(Path.Combine(PathOf(dir), name + "_mask.png")).Data;
        var alone = Mask("p1", "alone");
        Tensor logits;
        using (Autograd.NoGrad()) logits = model.Module.Forward(model.Normalize(ImageFile.Read(single).ToTensor(3)).Unsqueeze(0));
        Assert.Equal(logits.Argmax(1).ToArray().Select(id => (byte)id).ToArray(), alone);
        foreach (var dir in new[] { "p", "r" })
        {
            Assert.Equal(alone, Mask(dir, "a"));
            Assert.Equal(alone, Mask(dir, "c"));
        }
        Assert.Equal(Mask("p", "b"), Mask("r", "b"));
    }

    [Fact]
    public void BadInputSizeFailsWithOneLine()
    {
        AssertFails(Run("export", "--checkpoint", UNetCheckpoint(), "--out", PathOf("x.onnx"), "--input-size", "16"), "export", "expected HxW");
        Assert.False(File.Exists(PathOf("x.onnx")));
    }
}
