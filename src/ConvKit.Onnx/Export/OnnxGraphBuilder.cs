using ConvKit.Onnx.Proto;
using Google.Protobuf;

namespace ConvKit.Onnx;

/// <summary>A value of the graph being exported: its ONNX name and the tensor ConvKit computed for it (gives shapes).</summary>
internal readonly record struct ExportValue(string Name, Tensor Value);

/// <summary>Appends initializers and nodes to a GraphProto under unique names.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = [];
    private int _counter;

    public GraphProto Graph { get; } = new() { Name = "convkit" };

    private string Unique(string hint)
    {
        var name = hint;
        while (!_names.Add(name)) name = $"{hint}_{++_counter}";
        return name;
    }

    /// <summary>A float initializer named like the state-dict key it comes from.</summary>
    public string Initializer(string name, Tensor t)
    {
        var proto = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(t.Shape.Select(d => (long)d));
        proto.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Contiguous().ToArray().AsSpan()));
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>An int64 vector initializer (pads, sizes, slice bounds, axes).</summary>
    public string Ints(string hint, params long[] values)
    {
        var proto = new TensorProto { Name = Unique(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A float scalar or vector initializer (Clip bounds, Resize scales).</summary>
    public string Floats(string hint, bool scalar, params float[] values)
    {
        var proto = new TensorProto { Name = Unique(hint), DataType = (int)TensorProto.Types.DataType.Float };
        if (!scalar) proto.Dims.Add(values.Length);
        proto.FloatData.AddRange(values);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds a node; returns its (single) output's name.</summary>
    public string Node(string op, string nameHint, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Unique(nameHint + "/" + op) };
        node.Input.AddRange(inputs);
        node.Output.Add(Unique(node.Name + "_output"));
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return node.Output[0];
    }

    public static AttributeProto Attr(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    public static AttributeProto Attr(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    public static AttributeProto Attr(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };
    public static AttributeProto Attr(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    public static ValueInfoProto Info(string name, IReadOnlyList<int> shape)
    {
        var tt = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        foreach (var d in shape) tt.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tt } };
    }
}
