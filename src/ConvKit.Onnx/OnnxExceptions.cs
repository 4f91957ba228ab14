namespace ConvKit.Onnx;

/// <summary>Base of every error ConvKit.Onnx raises for a model file or graph.</summary>
public class OnnxException : Exception
{
    public OnnxException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The file is not a valid ONNX model: a protobuf parse error, a size out of bounds, a dangling name, a cycle.</summary>
public sealed class OnnxFormatException : OnnxException
{
    public OnnxFormatException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A valid ONNX construct that ConvKit does not implement: names the op, the attribute (if any) and the node.</summary>
public sealed class OnnxUnsupportedException : OnnxException
{
    public string OpType { get; }
    public string NodeName { get; }
    public string? Attribute { get; }

    public OnnxUnsupportedException(string opType, string nodeName, string? attribute, string detail)
        : base($"ONNX {opType} node '{nodeName}'{(attribute is null ? "" : $", attribute '{attribute}'")}: {detail}")
    {
        OpType = opType; NodeName = nodeName; Attribute = attribute;
    }
}

/// <summary>Running a graph failed in a node (shapes that do not fit the op, a bad runtime value): names the op and node.</summary>
public sealed class OnnxEvaluationException : OnnxException
{
    public OnnxEvaluationException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A module (or a module setting) that <see cref="OnnxExport"/> cannot express in ONNX.</summary>
public sealed class OnnxExportException : OnnxException
{
    public OnnxExportException(string message) : base(message) { }
}
