using ConvKit.Nn;
using ConvKit.Serialization;
using ConvKit.Vision.Models;
using Xunit;

namespace ConvKit.Vision.Tests;

/// <summary>
/// Opt-in full-size check run by tools/check_resnet18_safetensors.sh: with CONVKIT_RESNET18_DIR set to the folder
/// tools/check_resnet18_safetensors.py wrote, loads torchvision's ResNet18 and the peer FCN-ResNet18 state_dicts by
/// name and compares ConvKit's outputs with PyTorch's on the same input; writes the differences to report.txt there.
/// Without the variable it is reported as skipped (the files are ~50 MB each, too big to commit).
/// </summary>
public class PyTorchResNet18Check
{
    private const string Variable = "CONVKIT_RESNET18_DIR";

    [ConvKit.Tests.OptInFact(Variable, "tools/check_resnet18_safetensors.sh")]
    public void FullResNet18AndFcnResNet18MatchPyTorch()
    {
        string dir = Environment.GetEnvironmentVariable(Variable)!;
        using var io = SafeTensorsFile.Open(Path.Combine(dir, "io.safetensors"));
        var x = io.ReadTensor("x");
        var lines = new List<string>();
        var resnet = Load(ResNet.ResNet18(), Path.Combine(dir, "resnet18.safetensors"));
        lines.Add(Compare("resnet18 eval", resnet.Eval(), x, io.ReadTensor("resnet18.eval"), out var evalErr));
        var fcn = Load(new FcnResNet18(), Path.Combine(dir, "fcn_resnet18.safetensors"));
        lines.Add(Compare("fcn_resnet18 eval", fcn.Eval(), x, io.ReadTensor("fcn_resnet18.eval"), out var fcnErr));
        lines.Add(Compare("resnet18 train", resnet.Train(), x, io.ReadTensor("resnet18.train"), out var trainErr));
        File.WriteAllLines(Path.Combine(dir, "report.txt"), lines);
        Assert.True(Math.Max(evalErr, Math.Max(fcnErr, trainErr)) <= 1e-4, string.Join("\n", lines));
    }

    private static T Load<T>(T model, string path) where T : Module
    {
        var r = SafeTensors.LoadStateDict(path, model);
        Assert.Empty(r.MissingKeys);
        return model;
    }

    /// <summary>One report line: max |a - e|, max |e|, and the max difference relative to max(1, |e|).</summary>
    private static string Compare(string what, Module model, Tensor x, Tensor expected, out double maxRelative)
    {
        Tensor y;
        using (Autograd.NoGrad()) y = model.Forward(x);
        Assert.Equal(expected.Shape.ToArray(), y.Shape.ToArray());
        var (a, e) = (y.ToArray(), expected.ToArray());
        double maxAbs = 0, maxRel = 0, maxE = 0;
        for (int i = 0; i < e.Length; i++)
        {
            double d = Math.Abs(a[i] - e[i]);
            maxAbs = Math.Max(maxAbs, d);
            maxE = Math.Max(maxE, Math.Abs(e[i]));
            maxRel = Math.Max(maxRel, d / Math.Max(1.0, Math.Abs(e[i])));
        }
        maxRelative = maxRel;
        return $"{what}: [{string.Join(", ", y.Shape.ToArray())}] max |ConvKit - PyTorch| = {maxAbs:E2} (max |PyTorch| = {maxE:F3}; max relative to max(1, |PyTorch|) = {maxRel:E2})";
    }
}
