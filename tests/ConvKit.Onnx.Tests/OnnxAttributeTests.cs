using ConvKit.Onnx.Proto;
using ConvKit.Tests.Golden;
using Google.Protobuf;
using Xunit;

namespace ConvKit.Onnx.Tests;

/// <summary>Attributes PyTorch's exporter never emits (auto_pad, asymmetric pads) against hand-written ConvKit equivalents.</summary>
public class OnnxAttributeTests
{
    private static OnnxGraphModule Single(string op, string[] inputs, TensorProto[] inits, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = "n" };
        n.Input.AddRange(inputs); n.Output.Add("y"); n.Attribute.AddRange(attrs);
        var g = new GraphProto { Name = "g" };
        g.Input.Add(new ValueInfoProto { Name = "x" });
        g.Output.Add(new ValueInfoProto { Name = "y" });
        g.Node.Add(n);
        g.Initializer.AddRange(inits);
        var m = new ModelProto { IrVersion = 7, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        return OnnxModel.Load(m.ToByteArray());
    }

    private static TensorProto Init(string name, Tensor t)
    {
        var p = new TensorProto { Name = name, DataType = 1 };
        p.Dims.AddRange(t.Shape.Select(d => (long)d));
        p.FloatData.AddRange(t.ToArray());
        return p;
    }

    private static AttributeProto Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); return a; }
    private static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    [Theory]
    [InlineData("SAME_UPPER", new[] { 0, 1, 0, 1 })]   // 6 wide, k 3, s 2: out 3, total pad 1, at the end (UPPER) or start (LOWER)
    [InlineData("SAME_LOWER", new[] { 1, 0, 1, 0 })]
    public void Conv_auto_pad_same_splits_the_odd_pixel(string autoPad, int[] padLRTB)
    {
        var x = Tensor.FromArray(GoldenPrng.Generate([1, 2, 6, 6], 940001), 1, 2, 6, 6);
        var w = Tensor.FromArray(GoldenPrng.Generate([3, 2, 3, 3], 940002), 3, 2, 3, 3);
        var m = Single("Conv", ["x", "w"], [Init("w", w)], Ints("strides", 2, 2), Str("auto_pad", autoPad));
        var expected = F.Conv2d(F.Pad(x, padLRTB), w, stride: 2);
        Assert.Equal(new[] { 1, 3, 3, 3 }, m.Forward(x).Shape.ToArray());
        OnnxFixtures.AssertClose(expected.ToArray(), m.Forward(x).ToArray(), autoPad, 1e-6);
    }

    [Fact]
    public void Asymmetric_pads_pad_explicitly()
    {
        var x = Tensor.FromArray(GoldenPrng.Generate([1, 1, 5, 6], 940003), 1, 1, 5, 6);
        var conv = Single("Conv", ["x", "w"], [Init("w", Tensor.Ones(1, 1, 2, 2))], Ints("pads", 0, 1, 1, 0));
        OnnxFixtures.AssertClose(F.Conv2d(F.Pad(x, [1, 0, 0, 1]), Tensor.Ones(1, 1, 2, 2)).ToArray(), conv.Forward(x).ToArray(), "conv", 1e-6);
        var pool = Single("MaxPool", ["x"], [], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Ints("pads", 1, 0, 0, 1));
        var expected = F.MaxPool2d(F.Pad(x, [0, 1, 1, 0], PadMode.Constant, float.NegativeInfinity), 2);
        OnnxFixtures.AssertClose(expected.ToArray(), pool.Forward(x).ToArray(), "maxpool", 1e-6);
    }

    [Fact]
    public void Gemm_alpha_beta_and_transA()
    {
        var a = Tensor.FromArray(GoldenPrng.Generate([3, 2], 940004), 3, 2);
        var b = Tensor.FromArray(GoldenPrng.Generate([3, 4], 940005), 3, 4);
        var c = Tensor.FromArray(GoldenPrng.Generate([4], 940006), 4);
        var m = Single("Gemm", ["x", "b", "c"], [Init("b", b), Init("c", c)],
                       new AttributeProto { Name = "transA", Type = AttributeProto.Types.AttributeType.Int, I = 1 },
                       new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 0.5f },
                       new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = 2f });
        OnnxFixtures.AssertClose((a.T().Matmul(b) * 0.5f + c * 2f).ToArray(), m.Forward(a).ToArray(), "gemm", 1e-6);
    }
}
