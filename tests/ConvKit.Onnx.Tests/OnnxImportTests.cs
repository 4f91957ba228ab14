using ConvKit.Optim;
using Xunit;

namespace ConvKit.Onnx.Tests;

/// <summary>Models exported by torch.onnx.export (opset 13) run in ConvKit with PyTorch's outputs, and train.</summary>
public class OnnxImportTests
{
    public static TheoryData<string> Models => new() { "classifier", "smallsecnn", "seedunet_small", "dwconcat", "convtranspose", "upsample" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Outputs_match_pytorch(string name)
    {
        var model = OnnxModel.Load(OnnxFixtures.ModelPath(name));
        var (input, shape, expected) = OnnxFixtures.Case(name);
        var y = model.Forward(input);
        Assert.Equal(shape, y.Shape.ToArray());
        OnnxFixtures.AssertClose(expected, y.ToArray(), name);
    }

    [Fact]
    public void Dynamic_batch_runs_the_shape_subgraph_on_another_batch_size()
    {
        var model = OnnxModel.Load(OnnxFixtures.ModelPath("classifier"));
        var (input, _, expected) = OnnxFixtures.Case("classifier");
        var first = input.Narrow(0, 1, 1);
        var y = model.Forward(first);
        Assert.Equal(new[] { 1, 5 }, y.Shape.ToArray());
        OnnxFixtures.AssertClose(expected[5..], y.ToArray(), "classifier[1]");
        Assert.Contains("Shape", model.OpTypes);
    }

    [Fact]
    public void Initializers_are_parameters_and_buffers_under_pytorch_names()
    {
        var model = OnnxModel.Load(OnnxFixtures.ModelPath("seedunet_small"));
        var names = model.NamedParameters().Select(p => p.Name).ToHashSet();
        Assert.Contains("out.weight", names);
        Assert.Contains("bn1.0.weight", names);
        var buffers = model.NamedBuffers().Select(b => b.Name).ToHashSet();
        Assert.Contains("bn1.0.running_mean", buffers);
        Assert.DoesNotContain("bn1.0.running_mean", names);
        Assert.Equal(model.StateDict().Count, names.Count + buffers.Count);
    }

    [Fact]
    public void Imported_model_fine_tunes()
    {
        var model = OnnxModel.Load(OnnxFixtures.ModelPath("dwconcat"));
        var (input, _, _) = OnnxFixtures.Case("dwconcat");
        var parameters = model.Parameters().ToList();
        Assert.NotEmpty(parameters);
        var before = parameters.Select(p => p.ToArray()).ToList();
        var opt = new SGD(parameters, lr: 0.1);
        var y = model.Forward(input);
        var loss = (y * y).Mean();
        loss.Backward();
        foreach (var (name, p) in model.NamedParameters())
            Assert.True(p.Grad is not null, $"parameter {name} got no gradient");
        // grp.bias is followed by y − mean(y) over H, W, so its true gradient is zero; every other weight moves.
        var moving = parameters.Where(p => p.Grad!.ToArray().Max(MathF.Abs) > 1e-6f).ToList();
        Assert.True(moving.Count >= parameters.Count - 1, $"{parameters.Count - moving.Count} parameters have no gradient");
        opt.Step();
        for (int i = 0; i < parameters.Count; i++)
            if (moving.Contains(parameters[i])) Assert.NotEqual(before[i], parameters[i].ToArray());
        var loss2 = (model.Forward(input) * model.Forward(input)).Mean();
        Assert.True(loss2.Item() < loss.Item(), $"one SGD step should lower the loss: {loss.Item()} → {loss2.Item()}");
    }

    [Fact]
    public void State_dict_round_trips_into_a_fresh_import()
    {
        var a = OnnxModel.Load(OnnxFixtures.ModelPath("convtranspose"));
        var b = OnnxModel.Load(OnnxFixtures.ModelPath("convtranspose"));
        using (Autograd.NoGrad())
            foreach (var p in a.Parameters()) p.CopyFrom(p * 0.5f);
        b.LoadStateDict(a.StateDict());
        var (input, _, _) = OnnxFixtures.Case("convtranspose");
        Assert.Equal(a.Forward(input).ToArray(), b.Forward(input).ToArray());
    }

    /// <summary>Big models (resnet18, fcn_resnet18, SeedUNet 8..128) written by tools/check_onnx_import.sh; skipped unless it set the folder.</summary>
    [ConvKit.Tests.OptInFact("CONVKIT_ONNX_BIG", "tools/check_onnx_import.sh")]
    public void Big_models_match_pytorch_when_generated()
    {
        var dir = Environment.GetEnvironmentVariable("CONVKIT_ONNX_BIG")!;
        Environment.SetEnvironmentVariable("CONVKIT_ONNX_FIXTURES", dir);
        try
        {
            foreach (var name in new[] { "resnet18", "fcn_resnet18", "seedunet" })
            {
                var model = OnnxModel.Load(OnnxFixtures.ModelPath(name));
                var (input, shape, expected) = OnnxFixtures.Case(name);
                var y = model.Forward(input);
                Assert.Equal(shape, y.Shape.ToArray());
                OnnxFixtures.AssertClose(expected, y.ToArray(), name);
            }
        }
        finally { Environment.SetEnvironmentVariable("CONVKIT_ONNX_FIXTURES", null); }
    }
}
