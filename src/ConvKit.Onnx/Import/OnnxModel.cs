using ConvKit.Nn;
using ConvKit.Onnx.Proto;
using Google.Protobuf;

namespace ConvKit.Onnx;

/// <summary>Loads ONNX models (default domain, opset 7 and newer) as ConvKit modules.</summary>
public static class OnnxModel
{
    /// <summary>Largest model file accepted (protobuf's own limit is 2 GiB).</summary>
    public const long MaxFileBytes = int.MaxValue;
    /// <summary>Largest node count of a graph.</summary>
    public const int MaxNodes = 1_000_000;
    private const int RecursionLimit = 32;

    /// <summary>The op types the importer supports.</summary>
    public static IReadOnlyList<string> SupportedOps => OpRegistry.Supported;

    /// <summary>
    /// Reads an .onnx file into an <see cref="OnnxGraphModule"/>. Throws <see cref="OnnxFormatException"/> for a
    /// malformed file and <see cref="OnnxUnsupportedException"/> (naming op, attribute and node) for a construct
    /// ConvKit does not implement.
    /// </summary>
    public static OnnxGraphModule Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        if (info.Length > MaxFileBytes) throw new OnnxFormatException($"ONNX model {path} is {info.Length} bytes; at most {MaxFileBytes} are supported");
        return Load(File.ReadAllBytes(path));
    }

    /// <summary>Parses a serialized ModelProto (see <see cref="Load(string)"/>).</summary>
    public static OnnxGraphModule Load(byte[] bytes)
    {
        ModelProto model;
        try
        {
            var input = CodedInputStream.CreateWithLimits(new MemoryStream(bytes, writable: false), int.MaxValue, RecursionLimit);
            model = ModelProto.Parser.ParseFrom(input);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidOperationException or ArgumentException or IOException)
        {
            throw new OnnxFormatException($"not a valid ONNX model (protobuf parse error: {e.Message})", e);
        }
        return Build(model);
    }

    private static long DefaultOpset(ModelProto model)
    {
        long opset = -1;
        foreach (var o in model.OpsetImport)
            if (!o.HasDomain || o.Domain is "" or "ai.onnx") opset = o.Version;
        if (opset < 0) throw new OnnxFormatException("ONNX model imports no default-domain opset (opset_import is empty)");
        if (opset < 7) throw new OnnxUnsupportedException("(model)", "(model)", "opset_import", $"opset {opset} is not supported; expected 7 or newer");
        return opset;
    }

    internal static OnnxGraphModule Build(ModelProto model)
    {
        var graph = model.Graph ?? throw new OnnxFormatException("ONNX model has no graph");
        long opset = DefaultOpset(model);
        if (graph.Node.Count > MaxNodes) throw new OnnxFormatException($"ONNX graph has {graph.Node.Count} nodes; at most {MaxNodes} are supported");

        var constants = new Dictionary<string, OnnxValue>();
        var floatInits = new Dictionary<string, Tensor>();
        foreach (var t in graph.Initializer)
        {
            if (!t.HasName || t.Name.Length == 0) throw new OnnxFormatException("ONNX initializer without a name");
            var v = OnnxTensorReader.Read(t, "initializer");
            if (floatInits.ContainsKey(t.Name) || constants.ContainsKey(t.Name)) throw new OnnxFormatException($"ONNX initializer '{t.Name}' appears twice");
            if (v.IsInt) constants[t.Name] = v; else floatInits[t.Name] = v.Float!;
        }
        var inputs = graph.Input.Select(i => i.Name).Where(n => !floatInits.ContainsKey(n) && !constants.ContainsKey(n)).ToArray();
        var outputs = graph.Output.Select(o => o.Name).ToArray();
        if (outputs.Length == 0) throw new OnnxFormatException("ONNX graph has no outputs");

        var nodes = TopologicalOrder(graph, inputs.Concat(floatInits.Keys).Concat(constants.Keys), outputs);
        var compiled = new List<OnnxGraphModule.CompiledNode>();
        var trainable = new HashSet<string>();
        int index = 0;
        foreach (var node in nodes)
        {
            string name = node.HasName && node.Name.Length > 0 ? node.Name : $"{node.OpType}_{index}";
            index++;
            if (node.HasDomain && node.Domain is not ("" or "ai.onnx"))
                throw new OnnxUnsupportedException(node.OpType, name, null, $"domain '{node.Domain}' is not supported (only the default ONNX domain)");
            if (!OpRegistry.TryGet(node.OpType, out var compile))
                throw new OnnxUnsupportedException(node.OpType, name, null, $"op '{node.OpType}' is not supported; supported ops: {string.Join(", ", OpRegistry.Supported)}");
            var ctx = new NodeContext(node, name, opset);
            var kernel = compile(ctx);
            ctx.EnsureAllRead();
            for (int i = 0; i < node.Input.Count; i++)
                if (floatInits.ContainsKey(node.Input[i]) && OpRegistry.IsTrainableSlot(node.OpType, i)) trainable.Add(node.Input[i]);
            compiled.Add(new(ctx, kernel, node.Input.ToArray(), node.Output.ToArray(), []));
        }
        AddReleases(compiled, outputs.Concat(floatInits.Keys).Concat(constants.Keys).ToHashSet());

        var keys = OnnxScope.KeysFor(floatInits.Keys);
        var holders = new Dictionary<string, Tensor>();
        foreach (var (name, t) in floatInits)
            holders[name] = trainable.Contains(name) ? new Parameter(t) : t;
        var module = new OnnxGraphModule(model, compiled, constants, holders, inputs, outputs);
        foreach (var (name, t) in holders) module.Add(keys[name], t, t is Parameter);
        return module;
    }

    /// <summary>Kahn's algorithm over value names; a missing producer or a cycle is a format error.</summary>
    private static List<NodeProto> TopologicalOrder(GraphProto graph, IEnumerable<string> available, string[] outputs)
    {
        var known = available.ToHashSet();
        var producer = new Dictionary<string, int>();
        for (int i = 0; i < graph.Node.Count; i++)
            foreach (var o in graph.Node[i].Output)
                if (o.Length > 0 && (known.Contains(o) || !producer.TryAdd(o, i)))
                    throw new OnnxFormatException($"ONNX value '{o}' is produced more than once (node {i}, {graph.Node[i].OpType})");
        var pending = new int[graph.Node.Count];
        var consumers = new Dictionary<int, List<int>>();
        for (int i = 0; i < graph.Node.Count; i++)
            foreach (var inp in graph.Node[i].Input.Where(n => n.Length > 0).Distinct())
            {
                if (known.Contains(inp)) continue;
                if (!producer.TryGetValue(inp, out int p))
                    throw new OnnxFormatException($"ONNX node {i} ({graph.Node[i].OpType} '{graph.Node[i].Name}') reads '{inp}', which no node, input or initializer provides");
                pending[i]++;
                (consumers.TryGetValue(p, out var l) ? l : consumers[p] = []).Add(i);
            }
        var ready = new Queue<int>(Enumerable.Range(0, pending.Length).Where(i => pending[i] == 0));
        var order = new List<NodeProto>();
        while (ready.Count > 0)
        {
            int i = ready.Dequeue();
            order.Add(graph.Node[i]);
            if (consumers.TryGetValue(i, out var cs))
                foreach (var c in cs) if (--pending[c] == 0) ready.Enqueue(c);
        }
        if (order.Count != graph.Node.Count) throw new OnnxFormatException("ONNX graph has a cycle");
        foreach (var o in outputs)
            if (!known.Contains(o) && !producer.ContainsKey(o)) throw new OnnxFormatException($"ONNX graph output '{o}' is not produced by any node");
        return order;
    }

    /// <summary>Each intermediate value is dropped after its last consumer, so a forward pass holds only live activations (and those autograd keeps).</summary>
    private static void AddReleases(List<OnnxGraphModule.CompiledNode> nodes, HashSet<string> keep)
    {
        var last = new Dictionary<string, int>();
        for (int i = 0; i < nodes.Count; i++)
            foreach (var n in nodes[i].Inputs) if (n.Length > 0) last[n] = i;
        for (int i = 0; i < nodes.Count; i++)
            nodes[i] = nodes[i] with { Release = nodes[i].Inputs.Where(n => n.Length > 0 && last[n] == i && !keep.Contains(n)).Distinct().ToArray() };
    }
}
