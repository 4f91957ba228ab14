namespace ConvKit.Onnx;

/// <summary>The ONNX ops the importer implements (default domain), and which inputs of each hold trainable weights.</summary>
internal static class OpRegistry
{
    private static readonly Dictionary<string, Func<NodeContext, OpKernel>> Ops = new()
    {
        ["Conv"] = ConvImport.Conv,
        ["ConvTranspose"] = ConvImport.ConvTranspose,
        ["MaxPool"] = PoolImport.MaxPool,
        ["AveragePool"] = PoolImport.AveragePool,
        ["GlobalAveragePool"] = PoolImport.GlobalAveragePool,
        ["GlobalMaxPool"] = PoolImport.GlobalMaxPool,
        ["BatchNormalization"] = ActivationImport.BatchNormalization,
        ["Relu"] = ActivationImport.Unary(F.Relu),
        ["Sigmoid"] = ActivationImport.Unary(F.Sigmoid),
        ["Tanh"] = ActivationImport.Unary(F.Tanh),
        ["LeakyRelu"] = ActivationImport.LeakyRelu,
        ["Clip"] = ActivationImport.Clip,
        ["Softmax"] = ActivationImport.Softmax,
        ["Dropout"] = ActivationImport.Dropout,
        ["Identity"] = ActivationImport.Identity,
        ["Add"] = MathImport.Binary((a, b) => a + b, (a, b) => a + b),
        ["Sub"] = MathImport.Binary((a, b) => a - b, (a, b) => a - b),
        ["Mul"] = MathImport.Binary((a, b) => a * b, (a, b) => a * b),
        ["Div"] = MathImport.Binary((a, b) => a / b, MathImport.IntDiv),
        ["Gemm"] = MathImport.Gemm,
        ["MatMul"] = MathImport.MatMul,
        ["ReduceMean"] = MathImport.ReduceMean,
        ["Shape"] = ShapeImport.Shape,
        ["Gather"] = ShapeImport.Gather,
        ["Unsqueeze"] = ShapeImport.Unsqueeze,
        ["Squeeze"] = ShapeImport.Squeeze,
        ["Concat"] = ShapeImport.Concat,
        ["Reshape"] = ShapeImport.Reshape,
        ["Flatten"] = ShapeImport.Flatten,
        ["Transpose"] = ShapeImport.Transpose,
        ["Slice"] = SliceConstantImport.Slice,
        ["Constant"] = SliceConstantImport.Constant,
        ["ConstantOfShape"] = SliceConstantImport.ConstantOfShape,
        ["Cast"] = SliceConstantImport.Cast,
        ["Resize"] = ResizePadImport.Resize,
        ["Pad"] = ResizePadImport.Pad,
    };

    /// <summary>Ops the importer understands, sorted.</summary>
    public static IReadOnlyList<string> Supported => Ops.Keys.Order().ToList();

    public static bool TryGet(string op, out Func<NodeContext, OpKernel> compile) => Ops.TryGetValue(op, out compile!);

    /// <summary>
    /// True when a float initializer feeding input <paramref name="index"/> of <paramref name="op"/> is a weight to
    /// train (a Parameter); otherwise it is a buffer (BatchNormalization's running statistics, Resize scales, pads...).
    /// </summary>
    public static bool IsTrainableSlot(string op, int index) => op switch
    {
        "Conv" or "ConvTranspose" => index is 1 or 2,
        "BatchNormalization" => index is 1 or 2,
        "Gemm" or "MatMul" or "Add" or "Sub" or "Mul" or "Div" or "Concat" => true,
        _ => false,
    };
}
