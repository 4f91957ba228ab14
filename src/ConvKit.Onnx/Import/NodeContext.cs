using ConvKit.Onnx.Proto;
using Google.Protobuf;

namespace ConvKit.Onnx;

/// <summary>Runs one compiled node: inputs in node order (null for an omitted optional input), outputs in node order.</summary>
internal delegate OnnxValue[] OpKernel(OnnxValue?[] inputs);

/// <summary>
/// A node while it is compiled: typed attribute access that checks types and remembers which attributes were
/// read, so an attribute the op does not understand is reported (op, attribute, node) instead of ignored.
/// </summary>
internal sealed class NodeContext
{
    private readonly Dictionary<string, AttributeProto> _attrs = new();
    private readonly HashSet<string> _read = [];

    public NodeProto Node { get; }
    public string Op => Node.OpType;
    public string Name { get; }
    public long Opset { get; }
    public int InputCount => Node.Input.Count;

    public NodeContext(NodeProto node, string name, long opset)
    {
        Node = node; Name = name; Opset = opset;
        foreach (var a in node.Attribute)
            if (!_attrs.TryAdd(a.Name, a))
                throw new OnnxFormatException($"ONNX {node.OpType} node '{name}': attribute '{a.Name}' appears twice");
    }

    public OnnxUnsupportedException Unsupported(string? attribute, string detail) => new(Op, Name, attribute, detail);

    public bool Has(string name) => _attrs.ContainsKey(name);

    private AttributeProto? Get(string name, AttributeProto.Types.AttributeType type)
    {
        if (!_attrs.TryGetValue(name, out var a)) return null;
        _read.Add(name);
        if (a.HasRefAttrName) throw Unsupported(name, "attribute references (ref_attr_name) are only valid inside functions");
        if (a.Type != type && !(a.Type == AttributeProto.Types.AttributeType.Undefined))
            throw new OnnxFormatException($"ONNX {Op} node '{Name}': attribute '{name}' should be {type}, got {a.Type}");
        return a;
    }

    public long Int(string name, long dflt) => Get(name, AttributeProto.Types.AttributeType.Int) is { } a ? a.I : dflt;
    public float Float(string name, float dflt) => Get(name, AttributeProto.Types.AttributeType.Float) is { } a ? a.F : dflt;
    public string Str(string name, string dflt) => Get(name, AttributeProto.Types.AttributeType.String) is { } a ? a.S.ToStringUtf8() : dflt;
    public long[]? Ints(string name) => Get(name, AttributeProto.Types.AttributeType.Ints) is { } a ? a.Ints.ToArray() : null;
    public float[]? Floats(string name) => Get(name, AttributeProto.Types.AttributeType.Floats) is { } a ? a.Floats.ToArray() : null;
    public TensorProto? TensorAttr(string name) => Get(name, AttributeProto.Types.AttributeType.Tensor)?.T;

    /// <summary>An int attribute that must fit an int (sizes, axes).</summary>
    public int SmallInt(string name, long dflt)
    {
        long v = Int(name, dflt);
        if (v < int.MinValue || v > int.MaxValue) throw new OnnxFormatException($"ONNX {Op} node '{Name}': attribute '{name}' = {v} is out of range");
        return (int)v;
    }

    /// <summary>An ints attribute of an expected length, each within int range.</summary>
    public int[]? SmallInts(string name, int? length = null)
    {
        var v = Ints(name);
        if (v is null) return null;
        if (length is int len && v.Length != len)
            throw new OnnxFormatException($"ONNX {Op} node '{Name}': attribute '{name}' should have {len} values, got [{string.Join(", ", v)}]");
        if (v.Any(x => x < int.MinValue || x > int.MaxValue))
            throw new OnnxFormatException($"ONNX {Op} node '{Name}': attribute '{name}' = [{string.Join(", ", v)}] is out of range");
        return v.Select(x => (int)x).ToArray();
    }

    /// <summary>Accepts an attribute only with its default value (e.g. storage_order = 0).</summary>
    public void RequireDefault(string name, long dflt)
    {
        long v = Int(name, dflt);
        if (v != dflt) throw Unsupported(name, $"only {name}={dflt} is supported, got {v}");
    }

    /// <summary>Called after compiling: any attribute the op did not read is unsupported.</summary>
    public void EnsureAllRead()
    {
        foreach (var name in _attrs.Keys)
            if (!_read.Contains(name)) throw Unsupported(name, "attribute is not supported by ConvKit's importer");
    }

    /// <summary>The node must have between min and max inputs and exactly the given outputs count range.</summary>
    public void Arity(int minIn, int maxIn, int maxOut = 1)
    {
        if (Node.Input.Count < minIn || Node.Input.Count > maxIn)
            throw new OnnxFormatException($"ONNX {Op} node '{Name}': expected {minIn}..{maxIn} inputs, got {Node.Input.Count}");
        if (Node.Output.Count < 1 || Node.Output.Count > maxOut)
            throw Unsupported(null, $"expected 1..{maxOut} outputs, got {Node.Output.Count}");
    }

    public static string Utf8(ByteString s) => s.ToStringUtf8();
}
