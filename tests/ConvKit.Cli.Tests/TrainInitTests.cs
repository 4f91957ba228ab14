using ConvKit.Serialization;
using ConvKit.Vision.Data;
using ConvKit.Vision.Models;
using Xunit;

namespace ConvKit.Cli.Tests;

/// <summary>convkit train --init: fine-tuning from a state_dict by PyTorch's names, strict by default, and its errors.</summary>
public class TrainInitTests : CliTestBase
{
    private (int Code, string Out, string Err) Train(string outDir, params string[] extra) =>
        Run(["train", "--train-count", "24", "--image-size", "16", "--batch-size", "8", "--epochs", "1", "--out", outDir, .. extra]);

    /// <summary>A unet-small state_dict (as PyTorch would save it) for <paramref name="numClasses"/> classes.</summary>
    private string Weights(int numClasses, ulong seed, string name)
    {
        Nn.Module m;
        using (Generator.Use(new Generator(seed))) m = ModelRegistry.Get("unet-small").Create(3, numClasses);
        string path = PathOf(name);
        SafeTensors.SaveStateDict(path, m);
        return path;
    }

    private static float[] Weight(string modelFile, string key)
    {
        using var f = SafeTensorsFile.Open(modelFile);
        return f.ReadTensor(f.Entries.Single(e => e.Name.EndsWith(key, StringComparison.Ordinal)).Name).ToArray();
    }

    [Fact]
    public void InitLoadsEveryTensorBeforeTrainingAndChangesTheResult()
    {
        var init = Train(PathOf("init"), "--init", Weights(SyntheticShapes.NumClasses, 42, "w.safetensors"));
        Assert.True(init.Code == 0, init.Err);
        Assert.Matches(@"init: (\d+) of \1 tensors loaded from", init.Out);
        var plain = Train(PathOf("plain"));
        Assert.True(plain.Code == 0, plain.Err);
        Assert.NotEqual(Weight(Path.Combine(PathOf("plain"), "model.safetensors"), "out.weight"),
                        Weight(Path.Combine(PathOf("init"), "model.safetensors"), "out.weight"));
    }

    [Fact]
    public void AnotherHeadFailsStrictlyWithOneLineAndIsSkippedAndListedWhenNonStrict()
    {
        string other = Weights(SyntheticShapes.NumClasses + 2, 42, "head.safetensors");
        AssertFails(Train(PathOf("strict"), "--init", other), "train", "size mismatch for out.weight");
        var strict = Train(PathOf("strict"), "--init", other);
        Assert.Contains("size mismatch for out.bias", strict.Err);
        Assert.False(Directory.Exists(PathOf("strict")) && Directory.EnumerateFiles(PathOf("strict")).Any());

        var loose = Train(PathOf("loose"), "--init", other, "--init-non-strict");
        Assert.True(loose.Code == 0, loose.Err);
        Assert.Contains("init: skipped (shape differs): out.weight [", loose.Out);
        Assert.Contains("out.bias", loose.Out);
    }

    [Fact]
    public void BadInitFilesFailWithOneLine()
    {
        AssertFails(Train(PathOf("x"), "--init", PathOf("missing.safetensors")), "train", "not found");
        string junk = PathOf("junk.safetensors");
        File.WriteAllBytes(junk, [16, 0, 0, 0, 0, 0, 0, 0, .. "[1,2,3]         "u8]);
        AssertFails(Train(PathOf("x"), "--init", junk), "train", "expected the header to begin with '{'");
        string cnn = PathOf("cnn.safetensors");
        using (Generator.Use(new Generator(1))) SafeTensors.SaveStateDict(cnn, new SmallSECnn());
        AssertFails(Train(PathOf("x"), "--init", cnn), "train", "Unexpected key(s) in state_dict");
        AssertFails(Train(PathOf("x"), "--init-non-strict"), "train", "--init-non-strict needs --init");
    }
}
