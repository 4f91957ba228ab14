using Xunit;

namespace ConvKit.Cli.Tests;

public class EvalCommandTests : CliTestBase
{
    [Fact]
    public void SegmentationCheckpointOnShapesPrintsEpochMetricsAndTheClassTable()
    {
        var (code, stdout, stderr) = Run("eval", "--checkpoint", UNetCheckpoint(), "--data", "shapes", "--count", "3", "--image-size", "16", "--batch-size", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("unet-small (segmentation, 4 classes), epoch 3 on shapes val (3 images of 16x16", stdout);
        Assert.Matches(@"(?m)^pixel accuracy \d+\.\d  mean IoU \d+\.\d  \(768 counted\)", stdout);
        foreach (var name in new[] { "background", "circle", "rectangle", "triangle" })
            Assert.Matches($@"(?m)^{name}\s+", stdout);
    }

    [Fact]
    public void ModelAndDatasetMustFit()
    {
        AssertFails(Run("eval", "--checkpoint", ClassifierCheckpoint(), "--count", "2", "--image-size", "16"), "eval", "se-cnn is a classification model; dataset shapes is for segmentation");
        AssertFails(Run("eval", "--checkpoint", SaveCheckpoint("unet-small", 3, 5, name: "k5.safetensors"), "--count", "2", "--image-size", "16"),
            "eval", "predicts 5 classes; dataset shapes has 4");
        AssertFails(Run("eval", "--checkpoint", SaveCheckpoint("unet-small", 1, 4, name: "grey.safetensors"), "--count", "2", "--image-size", "16"),
            "eval", "expects 1-channel images; dataset shapes has 3");
    }

    [Fact]
    public void BadCheckpointsAndOptionsFailWithOneLine()
    {
        AssertFails(Run("eval", "--checkpoint", PathOf("missing.safetensors")), "eval", "missing.safetensors");
        AssertFails(Run("eval", "--checkpoint", SaveCheckpoint("unet-small", 3, 4, edit: m => m["convkit.model"] = "unet-small-aspp")),
            "eval", "is a checkpoint of another model");
        AssertFails(Run("eval", "--checkpoint", SaveCheckpoint("unet-small", 3, 4, edit: m => m["convkit.model"] = "no-such-net", name: "u.safetensors")),
            "eval", "unknown model 'no-such-net'");
        string ok = UNetCheckpoint();
        AssertFails(Run("eval", "--checkpoint", ok, "--data", "imagenet"), "eval", "unknown dataset 'imagenet'; available: shapes, voc, fashion-mnist, cifar10");
        AssertFails(Run("eval", "--checkpoint", ok, "--split", "test"), "eval", "unknown split 'test'");
        AssertFails(Run("eval", "--checkpoint", ok, "--count", "0"), "eval", "--count must be at least 1");
        AssertFails(Run("eval", "--checkpoint", ClassifierCheckpoint(), "--data", "cifar10"), "eval", "cifar10 needs --data-dir");
        AssertFails(Run("eval", "--checkpoint", ClassifierCheckpoint(), "--data", "fashion-mnist", "--data-dir", PathOf("none")), "eval", "none");
    }
}
