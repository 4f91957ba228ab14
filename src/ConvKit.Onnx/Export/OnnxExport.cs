using ConvKit.Nn;
using ConvKit.Onnx.Proto;
using ConvKit.Serialization;
using Google.Protobuf;

namespace ConvKit.Onnx;

/// <summary>Writes ConvKit modules as ONNX models (inference graphs, static input shape).</summary>
public static class OnnxExport
{
    /// <summary>The module types the exporter knows.</summary>
    public static IReadOnlyList<string> SupportedModules => ExportContext.SupportedModules;

    /// <summary>
    /// Exports <paramref name="model"/> for an input of <paramref name="inputShape"/> (e.g. [1, 3, 224, 224]) to
    /// <paramref name="path"/>, atomically. Walks the known module types (Sequential, Conv2d, ConvTranspose2d,
    /// BatchNorm2d, activations, pooling, Flatten, Linear → Gemm, Upsample → Resize, SqueezeExcitation, SmallSECnn,
    /// ResNet/BasicBlock, UNet, FcnResNet18); batch norm is exported with its running statistics (evaluation mode).
    /// An <see cref="OnnxGraphModule"/> is re-exported as its original graph with the module's current weights.
    /// Initializers carry the state-dict names, so <see cref="OnnxModel.Load(string)"/> gives the same keys back.
    /// Throws <see cref="OnnxExportException"/> for an unknown module.
    /// </summary>
    public static void Save(Module model, int[] inputShape, string path, int opset = 13)
    {
        var bytes = ToModel(model, inputShape, opset).ToByteArray();
        AtomicFile.WriteAllBytes(path, bytes);
    }

    internal static ModelProto ToModel(Module model, int[] inputShape, int opset)
    {
        if (opset < 13) throw new OnnxExportException($"ONNX export: opset {opset} is not supported; expected 13 or newer");
        if (model is OnnxGraphModule imported) return WithCurrentWeights(imported);
        if (inputShape.Length == 0 || inputShape.Any(d => d <= 0))
            throw new OnnxExportException($"ONNX export: input shape must be non-empty and positive, got [{string.Join(", ", inputShape)}]");
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var _ = Autograd.NoGrad();
            var ctx = new ExportContext();
            var input = new ExportValue("input", Tensor.Zeros(inputShape));
            var y = ctx.Export(model, "", input);
            var g = ctx.B.Graph;
            g.Input.Add(OnnxGraphBuilder.Info("input", inputShape));
            string outName = y.Name;
            if (outName == "input") outName = ctx.B.Node("Identity", "output", ["input"]);
            g.Output.Add(OnnxGraphBuilder.Info(outName, y.Value.Shape));
            var m = new ModelProto { IrVersion = opset <= 13 ? 7 : 8, ProducerName = "ConvKit", ProducerVersion = "0.1", Graph = g };
            m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
            return m;
        }
        finally { model.Train(wasTraining); }
    }

    /// <summary>The imported graph with every float initializer replaced by the module's current value (after fine-tuning).</summary>
    private static ModelProto WithCurrentWeights(OnnxGraphModule m)
    {
        var model = m.Model.Clone();
        foreach (var t in model.Graph.Initializer)
            if (m.Initializers.TryGetValue(t.Name, out var value))
            {
                t.FloatData.Clear(); t.DoubleData.Clear(); t.Int32Data.Clear();
                t.DataType = (int)TensorProto.Types.DataType.Float;
                t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.Contiguous().ToArray().AsSpan()));
            }
        return model;
    }
}
