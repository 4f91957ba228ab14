using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx;

/// <summary>
/// An imported ONNX graph as an ordinary ConvKit module: float initializers that feed weights (Conv, Gemm,
/// BatchNormalization scale/bias, ...) are Parameters, the others (running statistics, constants) buffers, all
/// under their ONNX names, so the module can be fine-tuned, its <c>StateDict</c> saved, and re-exported with
/// <see cref="OnnxExport"/>. <see cref="Forward"/> evaluates the nodes in topological order with ConvKit's F ops,
/// so autograd works through it. The graph always runs with inference semantics (BatchNormalization uses running
/// statistics, Dropout is the identity), whatever <see cref="ConvKit.Nn.Module.Training"/> says.
/// </summary>
public sealed class OnnxGraphModule : OnnxScope
{
    internal sealed record CompiledNode(NodeContext Context, OpKernel Kernel, string[] Inputs, string[] Outputs, string[] Release);

    private readonly List<CompiledNode> _nodes;
    private readonly Dictionary<string, OnnxValue> _constants;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    /// <summary>The parsed model (initializers are rewritten from the module's current values on export).</summary>
    internal ModelProto Model { get; }
    /// <summary>ONNX initializer name → the tensor (Parameter or buffer) that holds its value.</summary>
    internal IReadOnlyDictionary<string, Tensor> Initializers { get; }

    /// <summary>Names of the graph inputs, in order.</summary>
    public IReadOnlyList<string> InputNames => _inputNames;
    /// <summary>Names of the graph outputs, in order.</summary>
    public IReadOnlyList<string> OutputNames => _outputNames;
    /// <summary>
    /// The declared dims of each graph input, in <see cref="InputNames"/> order: a number for a fixed dim, null for a
    /// symbolic or missing one (e.g. [1, 3, null, null] for an image model exported with dynamic H and W).
    /// </summary>
    public IReadOnlyList<int?[]> InputDims => _inputNames
        .Select(n => Model.Graph.Input.FirstOrDefault(i => i.Name == n)?.Type?.TensorType?.Shape?.Dim
            .Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue is > 0 and <= int.MaxValue ? (int?)d.DimValue : null).ToArray() ?? [])
        .ToList();

    /// <summary>The op types in the graph, in evaluation order.</summary>
    public IReadOnlyList<string> OpTypes => _nodes.Select(n => n.Context.Op).ToList();

    internal OnnxGraphModule(ModelProto model, List<CompiledNode> nodes, Dictionary<string, OnnxValue> constants,
                             Dictionary<string, Tensor> initializers, string[] inputs, string[] outputs)
    {
        Model = model; _nodes = nodes; _constants = constants; Initializers = initializers;
        _inputNames = inputs; _outputNames = outputs;
    }

    /// <summary>Runs a single-input, single-output graph: input e.g. [N, C, H, W] → the graph's output.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (_inputNames.Length != 1 || _outputNames.Length != 1)
            throw new OnnxEvaluationException($"ONNX graph has {_inputNames.Length} inputs and {_outputNames.Length} outputs; use Run for graphs other than one input → one output");
        return Run(input)[0];
    }

    /// <summary>Runs the graph on its inputs (in <see cref="InputNames"/> order); returns the outputs in <see cref="OutputNames"/> order.</summary>
    public Tensor[] Run(params Tensor[] inputs)
    {
        if (inputs.Length != _inputNames.Length)
            throw new OnnxEvaluationException($"ONNX graph expects {_inputNames.Length} inputs ({string.Join(", ", _inputNames)}), got {inputs.Length}");
        var env = new Dictionary<string, OnnxValue>(_constants);
        foreach (var (name, t) in Initializers) env[name] = OnnxValue.Of(t);
        for (int i = 0; i < inputs.Length; i++) env[_inputNames[i]] = OnnxValue.Of(inputs[i]);
        foreach (var node in _nodes)
        {
            var args = node.Inputs.Select(n => n.Length == 0 ? null : env[n]).ToArray();
            OnnxValue[] results;
            try { results = node.Kernel(args); }
            catch (OnnxException) { throw; }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException or NotSupportedException)
            {
                throw new OnnxEvaluationException($"ONNX {node.Context.Op} node '{node.Context.Name}' failed on inputs ({string.Join(", ", args.Select(a => a?.ToString() ?? "none"))}): {e.Message}", e);
            }
            for (int i = 0; i < node.Outputs.Length && i < results.Length; i++)
                if (node.Outputs[i].Length > 0) env[node.Outputs[i]] = results[i];
            foreach (var r in node.Release) env.Remove(r);
        }
        return _outputNames.Select(n => env[n].AsFloat()).ToArray();
    }

    protected override string ExtraRepr() => $"nodes={_nodes.Count}, inputs=[{string.Join(", ", _inputNames)}], outputs=[{string.Join(", ", _outputNames)}]";
}
