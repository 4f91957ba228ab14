using ConvKit.Serialization;
using Xunit;

namespace ConvKit.Cli.Tests;

/// <summary>convkit train on tiny synthetic runs: its files, resume after a finished or killed run, and its errors.</summary>
public class TrainCommandTests : CliTestBase
{
    private (int Code, string Out, string Err) Train(string outDir, params string[] extra) =>
        Run(["train", "--train-count", "24", "--image-size", "16", "--batch-size", "8", "--out", outDir, .. extra]);

    [Fact]
    public void WritesCheckpointWeightsMetricsAndOverlaysThatEvalAndPredictRead()
    {
        string dir = PathOf("run");
        var (code, stdout, stderr) = Train(dir, "--epochs", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("epoch 2:", stdout);
        Assert.Contains("miou", stdout);
        var csv = File.ReadAllLines(Path.Combine(dir, "metrics.csv"));
        Assert.Equal("epoch,train_loss,seconds,images_per_second,lr,miou,pixel_accuracy", csv[0]);
        Assert.Equal(3, csv.Length);
        Assert.Equal("2", Checkpoint.ReadInfo(Path.Combine(dir, "checkpoint.safetensors"))["convkit.epoch"]);
        Assert.Equal("unet-small", Checkpoint.ReadInfo(Path.Combine(dir, "model.safetensors"))["convkit.model"]);
        Assert.Equal(8, Directory.GetFiles(Path.Combine(dir, "overlays"), "*.png").Length);

        var eval = Run("eval", "--checkpoint", Path.Combine(dir, "checkpoint.safetensors"), "--count", "4", "--image-size", "16");
        Assert.True(eval.Code == 0, eval.Err);
        Assert.Contains("epoch 2", eval.Out);
        var predict = Run("predict", "--checkpoint", Path.Combine(dir, "model.safetensors"), "--input", Path.Combine(dir, "overlays", "val00_truth.png"), "--out", PathOf("pred"));
        Assert.True(predict.Code == 0, predict.Err);
        Assert.True(File.Exists(Path.Combine(PathOf("pred"), "val00_truth_mask.png")));
    }

    [Fact]
    public void ResumeContinuesAfterTheLastCheckpointedEpochAndKeepsItsMetrics()
    {
        string dir = PathOf("run");
        Assert.Equal(0, Train(dir, "--epochs", "1", "--schedule", "none").Code);
        var first = File.ReadAllLines(Path.Combine(dir, "metrics.csv"))[1];
        var resumed = Train(dir, "--epochs", "3", "--schedule", "none", "--resume");
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.DoesNotContain("epoch 1:", resumed.Out);
        Assert.Contains("epoch 2:", resumed.Out);
        Assert.Contains("epoch 3:", resumed.Out);
        var csv = File.ReadAllLines(Path.Combine(dir, "metrics.csv"));
        Assert.Equal(4, csv.Length);
        Assert.Equal(first, csv[1]);
        Assert.Equal("3", Checkpoint.ReadInfo(Path.Combine(dir, "checkpoint.safetensors"))["convkit.epoch"]);

        var weights = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        var again = Train(dir, "--epochs", "3", "--schedule", "none", "--resume");
        Assert.True(again.Code == 0, again.Err);
        Assert.DoesNotContain("epoch 3:", again.Out);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
    }

    [Fact]
    public void BadChoicesFailWithOneLine()
    {
        AssertFails(Train(PathOf("x"), "--model", "vgg"), "train", "unknown model 'vgg'");
        AssertFails(Train(PathOf("x"), "--model", "se-cnn"), "train", "model 'se-cnn' is for classification, dataset 'shapes' is for segmentation");
        AssertFails(Train(PathOf("x"), "--data", "voc"), "train", "voc needs --data-dir");
        AssertFails(Train(PathOf("x"), "--data", "voc", "--data-dir", PathOf("novoc")), "train", "JPEGImages");
        AssertFails(Train(PathOf("x"), "--epochs", "0"), "train", "epochs must be at least 1, got 0");
        AssertFails(Train(PathOf("x"), "--optimizer", "lion"), "train", "unknown optimizer 'lion'");
    }
}
