using ConvKit.Nn;
using ConvKit.Tests;
using ConvKit.Tests.Golden;
using ConvKit.Vision.Models;
using Xunit;

namespace ConvKit.Onnx.Tests;

/// <summary>
/// Export → import round trips reproduce the module's outputs and state-dict names. With CONVKIT_ONNX_EXPORT_DIR set,
/// the exported files are kept there for tools/check_onnx_export.sh (onnx.checker with full shape inference).
/// </summary>
public class OnnxExportTests : TempDirectory
{
    private static void Randomize(Module m, ulong seed)
    {
        var g = new Generator(seed);
        using var _ = Autograd.NoGrad();
        foreach (var (_, mod) in m.NamedModules())
            if (mod is BatchNorm2d { RunningMean: not null } bn)
            {
                bn.RunningMean.CopyFrom(Tensor.Randn([bn.NumFeatures], g) * 0.1f);
                bn.RunningVar!.CopyFrom(Tensor.Rand([bn.NumFeatures], g) + 0.5f);
                bn.Weight?.CopyFrom(Tensor.Rand([bn.NumFeatures], g) + 0.5f);
                bn.Bias?.CopyFrom(Tensor.Randn([bn.NumFeatures], g) * 0.1f);
            }
    }

    private string OutPath(string name)
    {
        var dir = Environment.GetEnvironmentVariable("CONVKIT_ONNX_EXPORT_DIR");
        if (string.IsNullOrEmpty(dir)) return PathOf(name + ".onnx");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name + ".onnx");
    }

    private OnnxGraphModule RoundTrip(string name, Module model, int[] shape, ulong seed)
    {
        Randomize(model, seed);
        model.Eval();
        var x = Tensor.FromArray(GoldenPrng.Generate(shape, seed), shape);
        Tensor expected;
        using (Autograd.NoGrad()) expected = model.Forward(x);
        var path = OutPath(name);
        OnnxExport.Save(model, shape, path);
        var imported = OnnxModel.Load(path);
        var y = imported.Forward(x);
        Assert.Equal(expected.Shape, y.Shape);
        OnnxFixtures.AssertClose(expected.ToArray(), y.ToArray(), name, rtol: 1e-5);
        var keys = model.StateDict().Select(kv => kv.Key).Where(k => !k.EndsWith("num_batches_tracked")).ToHashSet();
        var importedKeys = imported.StateDict().Select(kv => kv.Key).ToHashSet();
        Assert.Subset(importedKeys, keys);
        return imported;
    }

    [Fact]
    public void Nn_layers_round_trip()
    {
        var model = new Sequential(
            new Conv2d(3, 8, 3, padding: Padding.Same), new BatchNorm2d(8), new ReLU6(),
            new MaxPool2d(3, 2, 1, ceilMode: true), new Conv2d(8, 8, 3, padding: 2, dilation: 2, groups: 4, paddingMode: "reflect"),
            new LeakyReLU(0.2f), new AvgPool2d(3, 1, 1, countIncludePad: false), new ConvTranspose2d(8, 6, 3, 2, 1, outputPadding: 1),
            new Sigmoid(), new Upsample(scaleFactor: 2.0), new Conv2d(6, 6, 3, stride: 2, bias: false), new Tanh(),
            new Upsample(size: (13, 9), mode: "bilinear"), new SqueezeExcitation(6, 2), new Dropout(0.2), new Identity(),
            new AdaptiveAvgPool2d(1), new Flatten(), new Linear(6, 5), new ReLU(), new Linear(5, 4), new Softmax(1));
        var imported = RoundTrip("nn_layers", model, [2, 3, 11, 9], 930001);
        foreach (var op in new[] { "Conv", "BatchNormalization", "Clip", "MaxPool", "Pad", "LeakyRelu", "AveragePool", "ConvTranspose",
                                   "Sigmoid", "Resize", "Tanh", "GlobalAveragePool", "Mul", "Flatten", "Gemm", "Relu", "Softmax" })
            Assert.Contains(op, imported.OpTypes);
    }

    [Fact]
    public void SmallSECnn_round_trips() => RoundTrip("smallsecnn", new SmallSECnn(10), [1, 1, 28, 28], 930002);

    [Fact]
    public void SE_ResNet_with_downsampling_round_trips() => RoundTrip("se_resnet", new ResNet([1, 1, 1, 1], 7, 3, seReduction: 16), [1, 3, 32, 32], 930003);

    [Fact]
    public void UNet_with_crop_and_concat_round_trips()
    {
        var imported = RoundTrip("unet", new UNet(3, 2, [8, 16, 32]), [1, 3, 20, 28], 930004);
        Assert.Contains("Concat", imported.OpTypes);
        Assert.Contains("ReduceMean", imported.OpTypes);
    }

    [Fact]
    public void UNet_atrous_sigmoid_on_odd_size_round_trips()
    {
        var imported = RoundTrip("unet_atrous", new UNet(3, 2, [8, 16], PyramidKind.Atrous, AttentionKind.Sigmoid), [1, 3, 13, 10], 930005);
        Assert.Contains("Slice", imported.OpTypes); // the 2x up-convolution of 7 rows is cropped to the 13-row skip
    }

    [Fact]
    public void FcnResNet18_pads_and_crops()
    {
        var imported = RoundTrip("fcn_resnet18", new FcnResNet18(3), [1, 3, 40, 50], 930006);
        Assert.Contains("Slice", imported.OpTypes);
    }

    [Fact]
    public void Imported_model_fine_tuned_re_exports_with_new_weights()
    {
        var model = OnnxModel.Load(OnnxFixtures.ModelPath("seedunet_small"));
        var (input, _, _) = OnnxFixtures.Case("seedunet_small");
        using (Autograd.NoGrad())
            foreach (var p in model.Parameters()) p.CopyFrom(p * 0.9f);
        var path = OutPath("reexported_seedunet");
        OnnxExport.Save(model, [1, 3, 32, 32], path);
        var again = OnnxModel.Load(path);
        Assert.Equal(model.Forward(input).ToArray(), again.Forward(input).ToArray());
    }

    [Fact]
    public void Unknown_module_names_type_and_path()
    {
        var e = Assert.Throws<OnnxExportException>(() => OnnxExport.Save(new Sequential(new Conv2d(1, 1, 1), new AdaptiveMaxPool2d(1)), [1, 1, 4, 4], PathOf("x.onnx")));
        Assert.Contains("AdaptiveMaxPool2d", e.Message);
        Assert.Contains("'1'", e.Message);
        Assert.False(File.Exists(PathOf("x.onnx")));
    }
}
