using System.CommandLine;
using System.Globalization;
using System.Text;

namespace ConvKit.Cli;

/// <summary>
/// <c>convkit explain conv</c>: prints the output-shape arithmetic of a conv2d or conv_transpose2d and, for small
/// examples, its explicit matrix (<see cref="ConvMatrix"/>): W with conv(x) = W·vec(x), or Wᵀ for the transposed
/// convolution. The kernel's entries are 1, 2, ... in row-major order unless --weight gives them, so the default
/// 1→1 channel 2x2 kernel on 3x3 is the tutorials' K = [[1, 2], [3, 4]] and prints their 4x9 matrix.
/// </summary>
internal static class ExplainCommand
{
    /// <summary>Matrices with at most this many rows and columns are printed.</summary>
    public const int MaxPrinted = 64;

    public static Command Create()
    {
        var inChannels = new Option<int>("--in-channels") { Description = "Input channels", DefaultValueFactory = _ => 1 };
        var outChannels = new Option<int>("--out-channels") { Description = "Output channels", DefaultValueFactory = _ => 1 };
        var input = new Option<string>("--input") { Description = "Input size HxW (or one number for both)", Required = true };
        var kernel = new Option<string>("--kernel") { Description = "Kernel size KHxKW (or one number for both)", Required = true };
        var stride = new Option<string>("--stride") { Description = "Stride S or SHxSW", DefaultValueFactory = _ => "1" };
        var padding = new Option<string>("--padding") { Description = "Padding P or PHxPW; conv also takes same or valid", DefaultValueFactory = _ => "0" };
        var dilation = new Option<string>("--dilation") { Description = "Dilation D or DHxDW", DefaultValueFactory = _ => "1" };
        var groups = new Option<int>("--groups") { Description = "Groups (in and out channels must be divisible by it)", DefaultValueFactory = _ => 1 };
        var transposed = new Option<bool>("--transposed") { Description = "Explain conv_transpose2d (ConvTranspose2d) instead of conv2d" };
        var outputPadding = new Option<string>("--output-padding") { Description = "Output padding OP or OPHxOPW (transposed only)", DefaultValueFactory = _ => "0" };
        var weight = new Option<string?>("--weight") { Description = "Kernel entries, comma-separated in row-major order (default 1, 2, 3, ...)" };

        var conv = new Command("conv", "Output shape and explicit matrix of a 2-D (transposed) convolution")
            { inChannels, outChannels, input, kernel, stride, padding, dilation, groups, transposed, outputPadding, weight };
        conv.SetAction(parse => CliRunner.Run("explain conv", () =>
        {
            var spec = new ConvSpec(parse.GetValue(inChannels), parse.GetValue(outChannels), ParsePair(parse.GetValue(input)!, "--input"),
                ParsePair(parse.GetValue(kernel)!, "--kernel"), ParsePair(parse.GetValue(stride)!, "--stride"), parse.GetValue(padding)!,
                ParsePair(parse.GetValue(dilation)!, "--dilation"), parse.GetValue(groups), parse.GetValue(transposed),
                ParsePair(parse.GetValue(outputPadding)!, "--output-padding"));
            Console.Write(Explain(spec, parse.GetValue(weight)));
            return 0;
        }));
        return new Command("explain", "Explain an operation step by step") { conv };
    }

    /// <summary>The text <c>convkit explain conv</c> prints for <paramref name="s"/>.</summary>
    internal static string Explain(ConvSpec s, string? weightValues)
    {
        if (s.Groups < 1) throw new ArgumentException($"--groups must be at least 1, got {s.Groups}");
        if (s.InChannels < 1 || s.OutChannels < 1) throw new ArgumentException($"channels must be at least 1, got in {s.InChannels}, out {s.OutChannels}");
        if (s.Input.H < 1 || s.Input.W < 1 || s.Kernel.H < 1 || s.Kernel.W < 1)
            throw new ArgumentException($"--input and --kernel must be positive, got input {s.Input}, kernel {s.Kernel}");
        if (s.InChannels % s.Groups != 0 || s.OutChannels % s.Groups != 0)
            throw new ArgumentException($"in_channels ({s.InChannels}) and out_channels ({s.OutChannels}) must be divisible by groups ({s.Groups})");
        if (!s.Transposed && s.OutputPadding != new Pair(0, 0)) throw new ArgumentException("--output-padding applies to --transposed only");
        int[] shape = s.Transposed ? [s.InChannels, s.OutChannels / s.Groups, s.Kernel.H, s.Kernel.W] : [s.OutChannels, s.InChannels / s.Groups, s.Kernel.H, s.Kernel.W];
        var w = Tensor.FromArray(Weights(weightValues, shape), shape);
        int[] x = [1, s.InChannels, s.Input.H, s.Input.W];
        Padding pad = s.Padding switch { "same" => Padding.Same, "valid" => Padding.Valid, var text => ParsePair(text, "--padding") };
        if (s.Transposed && pad.IsSame) throw new ArgumentException("--padding same is for conv2d only");
        var p = s.Transposed
            ? F.ConvTranspose2dGeometry(x, x[1..], w, null, s.Stride, pad.Size, s.OutputPadding, s.Groups, s.Dilation)
            : F.Conv2dGeometry(x, x[1..], w, null, s.Stride, pad, s.Dilation, s.Groups);
        var (outH, outW, outC) = s.Transposed ? (p.H, p.W, p.CIn) : (p.OutH, p.OutW, p.COut);
        var sb = new StringBuilder();
        string op = s.Transposed ? "conv_transpose2d" : "conv2d";
        sb.AppendLine($"{op}: input {ModelInput.FormatShape(x)}, weight {ModelInput.FormatShape(shape)}, stride {s.Stride}, padding {pad}, dilation {s.Dilation}" +
                      (s.Transposed ? $", output_padding {s.OutputPadding}" : "") + $", groups {s.Groups}");
        if (s.Transposed)
        {
            sb.AppendLine(TransposedFormula("H", s.Input.H, s.Stride.H, pad.Size.H, s.Dilation.H, s.Kernel.H, s.OutputPadding.H, outH));
            sb.AppendLine(TransposedFormula("W", s.Input.W, s.Stride.W, pad.Size.W, s.Dilation.W, s.Kernel.W, s.OutputPadding.W, outW));
        }
        else
        {
            sb.AppendLine(ConvFormula("H", s.Input.H, s.Stride.H, pad.IsSame ? s.Dilation.H * (s.Kernel.H - 1) : 2 * pad.Size.H, s.Dilation.H, s.Kernel.H, outH));
            sb.AppendLine(ConvFormula("W", s.Input.W, s.Stride.W, pad.IsSame ? s.Dilation.W * (s.Kernel.W - 1) : 2 * pad.Size.W, s.Dilation.W, s.Kernel.W, outW));
        }
        sb.AppendLine($"output {ModelInput.FormatShape([1, outC, outH, outW])}");
        long rows = (long)outC * outH * outW, cols = (long)s.InChannels * s.Input.H * s.Input.W;
        string name = s.Transposed ? "Wᵀ" : "W";
        if (rows > MaxPrinted || cols > MaxPrinted)
        {
            sb.AppendLine($"{name} is {rows} x {cols}: too large to print (at most {MaxPrinted} x {MaxPrinted})");
            return sb.ToString();
        }
        var m = s.Transposed
            ? ConvMatrix.ForConvTranspose2d(w, s.Input.H, s.Input.W, s.Stride, pad.Size, s.OutputPadding, s.Groups, s.Dilation)
            : ConvMatrix.ForConv2d(w, s.Input.H, s.Input.W, s.Stride, pad, s.Dilation, s.Groups);
        sb.AppendLine($"{name} [{rows} x {cols}], y = {name} · vec(x) (vec: row-major [C, H, W]" +
                      (s.Transposed ? "; W is the matrix of the conv2d with the same geometry)" : ")") + ":");
        AppendMatrix(sb, m.ToArray(), (int)rows, (int)cols);
        return sb.ToString();
    }

    private static string ConvFormula(string axis, int size, int stride, int padTotal, int dil, int k, int result) =>
        $"{axis}_out = floor(({axis} + 2·pad − dil·(k−1) − 1)/stride) + 1 = floor(({size} + {padTotal} − {dil * (k - 1)} − 1)/{stride}) + 1 = {result}";

    private static string TransposedFormula(string axis, int size, int stride, int pad, int dil, int k, int outputPadding, int result) =>
        $"{axis}_out = ({axis}−1)·stride − 2·pad + dil·(k−1) + output_padding + 1 = ({size}−1)·{stride} − {2 * pad} + {dil * (k - 1)} + {outputPadding} + 1 = {result}";

    private static void AppendMatrix(StringBuilder sb, float[] values, int rows, int cols)
    {
        var text = values.Select(v => (v == 0 ? 0f : v).ToString("0.####", CultureInfo.InvariantCulture)).ToArray();
        int width = text.Max(t => t.Length);
        for (int r = 0; r < rows; r++)
            sb.AppendLine(string.Join(" ", text.Skip(r * cols).Take(cols).Select(t => t.PadLeft(width))));
    }

    private static float[] Weights(string? values, int[] shape)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        if (values is null) return Enumerable.Range(1, count).Select(i => (float)i).ToArray();
        var parts = values.Split(',', StringSplitOptions.TrimEntries);
        var w = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out w[i]))
                throw new ArgumentException($"--weight: expected numbers separated by commas, got '{parts[i]}'");
        return w.Length == count ? w
            : throw new ArgumentException($"--weight has {w.Length} values; the weight {ModelInput.FormatShape(shape)} needs {count}");
    }

    /// <summary>"3x4" (or "3×4", "3,4") as (3, 4); "3" as (3, 3).</summary>
    internal static Pair ParsePair(string text, string option)
    {
        var parts = text.Split(['x', 'X', '×', ','], StringSplitOptions.TrimEntries);
        var v = new int[parts.Length];
        if (parts.Length is not (1 or 2) || parts.Where((p, i) => !int.TryParse(p, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v[i])).Any())
            throw new ArgumentException($"{option}: expected N or HxW, got '{text}'");
        return new Pair(v[0], v[^1]);
    }
}

/// <summary>The configuration <c>convkit explain conv</c> describes.</summary>
internal sealed record ConvSpec(int InChannels, int OutChannels, Pair Input, Pair Kernel, Pair Stride, string Padding, Pair Dilation,
    int Groups, bool Transposed, Pair OutputPadding);
