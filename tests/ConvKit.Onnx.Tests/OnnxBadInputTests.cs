using ConvKit.Onnx.Proto;
using Google.Protobuf;
using Xunit;

namespace ConvKit.Onnx.Tests;

/// <summary>Unsupported constructs name op, attribute and node; malformed and fuzzed files raise only ConvKit.Onnx's exceptions.</summary>
public class OnnxBadInputTests
{
    private static ModelProto Tiny(NodeProto node, params TensorProto[] inits)
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(new ValueInfoProto { Name = "x" });
        g.Output.Add(new ValueInfoProto { Name = node.Output[0] });
        g.Node.Add(node);
        g.Initializer.AddRange(inits);
        var m = new ModelProto { IrVersion = 7, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return m;
    }

    private static NodeProto Node(string op, string name, params string[] inputs)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add("y");
        return n;
    }

    [Fact]
    public void Unsupported_op_names_op_and_node()
    {
        var e = Assert.Throws<OnnxUnsupportedException>(() => OnnxModel.Load(Tiny(Node("Einsum", "my_einsum", "x")).ToByteArray()));
        Assert.Equal("Einsum", e.OpType);
        Assert.Equal("my_einsum", e.NodeName);
        Assert.Contains("Einsum", e.Message);
        Assert.Contains("my_einsum", e.Message);
    }

    [Fact]
    public void Unsupported_attribute_names_op_attribute_and_node()
    {
        var n = Node("Resize", "up1", "x", "", "x");
        n.Attribute.Add(new AttributeProto { Name = "mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("cubic") });
        var e = Assert.Throws<OnnxUnsupportedException>(() => OnnxModel.Load(Tiny(n).ToByteArray()));
        Assert.Equal(("Resize", "up1", "mode"), (e.OpType, e.NodeName, e.Attribute));

        var relu = Node("Relu", "r", "x");
        relu.Attribute.Add(new AttributeProto { Name = "bogus", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        var e2 = Assert.Throws<OnnxUnsupportedException>(() => OnnxModel.Load(Tiny(relu).ToByteArray()));
        Assert.Contains("'bogus'", e2.Message);
        Assert.Contains("'r'", e2.Message);
    }

    [Fact]
    public void Raw_data_length_must_match_dims()
    {
        var w = new TensorProto { Name = "w", DataType = 1, RawData = ByteString.CopyFrom(new byte[12]) };
        w.Dims.AddRange([2, 2]);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Tiny(Node("Add", "a", "x", "w"), w).ToByteArray()));
        Assert.Contains("12 bytes", e.Message);
        Assert.Contains("16", e.Message);
    }

    [Fact]
    public void Huge_or_negative_dims_are_rejected_before_allocating()
    {
        var w = new TensorProto { Name = "w", DataType = 1 };
        w.Dims.AddRange([1L << 40, 1L << 40]);
        Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Tiny(Node("Add", "a", "x", "w"), w).ToByteArray()));
        var v = new TensorProto { Name = "w", DataType = 1 };
        v.Dims.Add(-3);
        Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Tiny(Node("Add", "a", "x", "w"), v).ToByteArray()));
    }

    [Fact]
    public void Dangling_input_and_cycles_are_format_errors()
    {
        Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Tiny(Node("Relu", "r", "nowhere")).ToByteArray()));
        var m = Tiny(Node("Relu", "r", "z"));
        var back = new NodeProto { OpType = "Relu", Name = "r2" };
        back.Input.Add("y"); back.Output.Add("z");
        m.Graph.Node.Add(back);
        Assert.Contains("cycle", Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(m.ToByteArray())).Message);
    }

    [Fact]
    public void Garbage_and_truncated_files_are_format_errors()
    {
        Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }));
        var bytes = File.ReadAllBytes(OnnxFixtures.ModelPath("convtranspose"));
        Assert.ThrowsAny<OnnxException>(() => OnnxModel.Load(bytes[..(bytes.Length / 2)]));
    }

    /// <summary>Seeded random byte flips, insertions and truncations of a valid model: loading (and running) either works or raises an OnnxException.</summary>
    [Fact]
    public void Fuzzed_models_raise_only_onnx_exceptions()
    {
        var original = File.ReadAllBytes(OnnxFixtures.ModelPath("convtranspose"));
        var (input, _, _) = OnnxFixtures.Case("convtranspose");
        var rng = new Random(20240601);
        int ran = 0, rejected = 0;
        for (int iter = 0; iter < 1000; iter++)
        {
            var bytes = (byte[])original.Clone();
            int edits = 1 + rng.Next(4);
            for (int k = 0; k < edits; k++)
            {
                switch (rng.Next(4))
                {
                    case 0: bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256); break;
                    case 1: bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8)); break;
                    case 2: bytes = bytes[..rng.Next(bytes.Length)]; break;
                    default:
                        int at = rng.Next(bytes.Length + 1);
                        bytes = [.. bytes[..at], (byte)rng.Next(256), .. bytes[at..]];
                        break;
                }
                if (bytes.Length == 0) break;
            }
            try
            {
                var m = OnnxModel.Load(bytes);
                m.Run(Enumerable.Repeat(input, m.InputNames.Count).ToArray());
                ran++;
            }
            catch (OnnxException) { rejected++; }
        }
        Assert.Equal(1000, ran + rejected);
        Assert.True(rejected > 100, $"only {rejected} of 1000 mutations were rejected");
    }
}
