using System.Text.Json;

namespace ConvKit.Tests.Golden;

/// <summary>Maps a golden case (PyTorch op name and kwargs) to the ConvKit call that must match it.</summary>
public static class GoldenOps
{
    public static IReadOnlyList<object> Run(GoldenCase c, Dictionary<string, Tensor?> t, Dictionary<string, Tensor[]> lists)
    {
        Tensor X() => t["input"]!;
        Tensor? Opt(string name) => t.TryGetValue(name, out var v) ? v : null;
        // ConvKit's Pair type only holds two values; a longer list cannot be expressed, which is its rejection.
        Pair P(string key) { var v = c.IntPair(key); return v.Length == 2 ? (v[0], v[1]) : throw new ArgumentException($"{key}: expected 2 values, got {v.Length}"); }
        Pair? OptP(string key) => c.Has(key) ? P(key) : null;
        int[]? Dims(string key)
        {
            if (!c.Has(key)) return null;
            var v = c.Arg(key);
            return v.ValueKind == JsonValueKind.Number ? [v.GetInt32()] : v.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        }
        object[] One(object o) => [o];

        switch (c.Op)
        {
            case "conv2d":
            {
                Padding pad = c.String("padding") is string s ? s : P("padding");
                return One(F.Conv2d(X(), t["weight"]!, Opt("bias"), P("stride"), pad, P("dilation"), c.Int("groups")));
            }
            case "conv2d_padmode":
            {
                var pad = P("padding");
                var padded = F.Pad(X(), [pad.W, pad.W, pad.H, pad.H], F.ParsePadMode(c.String("padding_mode")!));
                return One(F.Conv2d(padded, t["weight"]!, Opt("bias"), P("stride"), 0, P("dilation"), c.Int("groups")));
            }
            case "conv_transpose2d":
                return One(F.ConvTranspose2d(X(), t["weight"]!, Opt("bias"), P("stride"), P("padding"), P("output_padding"), c.Int("groups"), P("dilation")));
            case "max_pool2d":
            {
                var (y, idx) = F.MaxPool2dWithIndices(X(), P("kernel_size"), OptP("stride"), P("padding"), P("dilation"), c.Bool("ceil_mode"));
                return c.Bool("return_indices") ? [y, idx] : [y];
            }
            case "avg_pool2d":
                return One(F.AvgPool2d(X(), P("kernel_size"), OptP("stride"), P("padding"), c.Bool("ceil_mode"), c.Bool("count_include_pad"), c.IntOrNull("divisor_override")));
            case "adaptive_avg_pool2d":
                return One(F.AdaptiveAvgPool2d(X(), P("output_size")));
            case "adaptive_max_pool2d":
            {
                var (y, idx) = F.AdaptiveMaxPool2dWithIndices(X(), P("output_size"));
                return c.Has("return_indices") && c.Bool("return_indices") ? [y, idx] : [y];
            }
            case "interpolate":
            {
                ScalePair? scale = c.Has("scale_factor") ? (c.DoublePair("scale_factor")[0], c.DoublePair("scale_factor")[1]) : null;
                return One(F.Interpolate(X(), OptP("size"), scale, c.String("mode")!, c.BoolOrNull("align_corners")));
            }
            case "unfold":
                return One(F.Unfold(X(), P("kernel_size"), P("dilation"), P("padding"), P("stride")));
            case "fold":
                return One(F.Fold(X(), P("output_size"), P("kernel_size"), P("dilation"), P("padding"), P("stride")));
            case "batch_norm":
            {
                var rm = Opt("running_mean")?.Detach().Clone();
                var rv = Opt("running_var")?.Detach().Clone();
                bool training = c.Bool("training");
                var y = F.BatchNorm(X(), rm, rv, Opt("weight"), Opt("bias"), training, c.DoubleOrNull("momentum") ?? 0.1, c.Double("eps"));
                return training ? [y, rm!, rv!] : [y];
            }
            case "pad":
            {
                var mode = c.String("mode") ?? "constant";
                return One(F.Pad(X(), c.IntList("pad"), F.ParsePadMode(mode), c.Has("value") ? (float)c.Double("value") : 0f));
            }
            case "relu": return One(F.Relu(X()));
            case "relu6": return One(F.Relu6(X()));
            case "sigmoid": return One(F.Sigmoid(X()));
            case "tanh": return One(F.Tanh(X()));
            case "leaky_relu": return One(F.LeakyRelu(X(), c.Has("negative_slope") ? (float)c.Double("negative_slope") : 0.01f));
            case "softmax": return One(F.Softmax(X(), c.Int("dim")));
            case "log_softmax": return One(F.LogSoftmax(X(), c.Int("dim")));
            case "linear": return One(F.Linear(X(), t["weight"]!, Opt("bias")));
            case "add": return One(Opt("other") is Tensor o1 ? X() + o1 : X() + (float)c.Double("other"));
            case "sub": return One(Opt("other") is Tensor o2 ? X() - o2 : X() - (float)c.Double("other"));
            case "mul": return One(Opt("other") is Tensor o3 ? X() * o3 : X() * (float)c.Double("other"));
            case "div": return One(Opt("other") is Tensor o4 ? X() / o4 : X() / (float)c.Double("other"));
            case "pow": return One(Opt("exponent") is Tensor e ? X().Pow(e) : X().Pow((float)c.Double("exponent")));
            case "maximum": return One(X().Maximum(t["other"]!));
            case "minimum": return One(X().Minimum(t["other"]!));
            case "clamp": return One(X().Clamp(c.DoubleOrNull("min") is double lo ? (float)lo : null, c.DoubleOrNull("max") is double hi ? (float)hi : null));
            case "exp": return One(X().Exp());
            case "log": return One(X().Log());
            case "sqrt": return One(X().Sqrt());
            case "abs": return One(X().Abs());
            case "sum": return One(X().Sum(Dims("dim"), c.Has("keepdim") && c.Bool("keepdim")));
            case "mean": return One(X().Mean(Dims("dim"), c.Has("keepdim") && c.Bool("keepdim")));
            case "amax": return One(X().Amax(Dims("dim"), c.Bool("keepdim")));
            case "amin": return One(X().Amin(Dims("dim"), c.Bool("keepdim")));
            case "var": return One(X().Var(Dims("dim"), c.Has("unbiased") ? c.Bool("unbiased") : true, c.Has("keepdim") && c.Bool("keepdim")));
            case "max_dim": { var (v, i) = X().Max(c.Int("dim"), c.Bool("keepdim")); return [v, i]; }
            case "min_dim": { var (v, i) = X().Min(c.Int("dim"), c.Bool("keepdim")); return [v, i]; }
            case "argmax": return One(X().Argmax(c.IntOrNull("dim"), c.Has("keepdim") && c.Bool("keepdim")));
            case "matmul": return One(X().Matmul(t["other"]!));
            case "permute": return One(X().Permute(c.IntList("dims")));
            case "transpose": return One(X().Transpose(c.Int("dim0"), c.Int("dim1")));
            case "narrow": return One(X().Narrow(c.Int("dim"), c.Int("start"), c.Int("length")));
            case "select": return One(X().Select(c.Int("dim"), c.Int("index")));
            case "flatten": return One(X().Flatten(c.Int("start_dim"), c.Int("end_dim")));
            case "cat": return One(Tensor.Cat(lists["tensors"], c.Int("dim")));
            case "stack": return One(Tensor.Stack(lists["tensors"], c.Int("dim")));
            case "split":
            {
                var s = c.Arg("split_size_or_sections");
                return s.ValueKind == JsonValueKind.Number ? X().Split(s.GetInt32(), c.Int("dim")) : X().Split(c.IntList("split_size_or_sections"), c.Int("dim"));
            }
            case "chunk": return X().Chunk(c.Int("chunks"), c.Int("dim"));
            default: return GoldenTrainOps.Run(c, t) ?? throw new NotSupportedException($"golden op '{c.Op}' has no ConvKit mapping");
        }
    }
}
