using System.Globalization;
using System.Text;

namespace ConvKit;

/// <summary>Formats tensors the way PyTorch prints them (torch/_tensor_str.py, default print options).</summary>
internal static class TensorFormatter
{
    private const int LineWidth = 80, Threshold = 1000, EdgeItems = 3;

    public static string Format(Tensor t) => Format(Array.ConvertAll(t.ToArray(), v => (double)v), t.Sizes, integral: false, suffix: "");

    public static string Format(double[] data, int[] shape, bool integral, string suffix)
    {
        const string prefix = "tensor(";
        if (data.Length == 0)
            return prefix + "[]" + (shape.Length == 1 ? "" : ", size=(" + string.Join(", ", shape) + ")") + suffix + ")";
        bool summarize = data.Length > Threshold;
        var fmt = ChooseFormat(data, integral);
        int width = data.Where(double.IsFinite).Select(fmt).Append("nan").Select(s => s.Length).Max();
        foreach (var v in data) width = Math.Max(width, fmt(v).Length);
        var sb = new StringBuilder(prefix);
        Write(sb, data, shape, 0, 0, prefix.Length + 1, width, fmt, summarize);
        return sb.Append(suffix).Append(')').ToString();
    }

    private static Func<double, string> ChooseFormat(double[] data, bool integral)
    {
        var inv = CultureInfo.InvariantCulture;
        if (integral) return v => ((long)v).ToString(inv);
        var finite = data.Where(v => double.IsFinite(v) && v != 0).Select(Math.Abs).ToArray();
        static string Special(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        if (finite.Length == 0) return v => double.IsFinite(v) ? (v == 0 ? (1 / v < 0 ? "-0." : "0.") : v.ToString(inv)) : Special(v);
        double max = finite.Max(), min = finite.Min();
        bool intMode = data.Where(double.IsFinite).All(v => Math.Round(v) == v);
        if (intMode && max <= 1e8) return v => double.IsFinite(v) ? v.ToString("0", inv) + "." : Special(v);
        bool sci = max / min > 1000 || max > 1e8 || min < 1e-4;
        if (sci) return v => double.IsFinite(v) ? v.ToString("0.0000e+00", inv) : Special(v);
        return v => double.IsFinite(v) ? v.ToString("0.0000", inv) : Special(v);
    }

    private static void Write(StringBuilder sb, double[] data, int[] shape, int dim, int offset, int indent, int width,
                              Func<double, string> fmt, bool summarize)
    {
        if (shape.Length == 0) { sb.Append(fmt(data[0])); return; }
        int n = shape[dim];
        int inner = 1;
        for (int d = dim + 1; d < shape.Length; d++) inner *= shape[d];
        var idx = summarize && n > 2 * EdgeItems
            ? Enumerable.Range(0, EdgeItems).Append(-1).Concat(Enumerable.Range(n - EdgeItems, EdgeItems)).ToArray()
            : Enumerable.Range(0, n).ToArray();
        sb.Append('[');
        if (dim == shape.Length - 1)
        {
            int perLine = Math.Max(1, (LineWidth - indent) / (width + 2));
            for (int k = 0; k < idx.Length; k++)
            {
                if (k > 0) sb.Append(k % perLine == 0 ? ",\n" + new string(' ', indent) : ", ");
                sb.Append(idx[k] < 0 ? "..." : fmt(data[offset + idx[k]]).PadLeft(width));
            }
        }
        else
        {
            string sep = "," + new string('\n', shape.Length - dim - 1) + new string(' ', indent);
            for (int k = 0; k < idx.Length; k++)
            {
                if (k > 0) sb.Append(sep);
                if (idx[k] < 0) sb.Append("...");
                else Write(sb, data, shape, dim + 1, offset + idx[k] * inner, indent + 1, width, fmt, summarize);
            }
        }
        sb.Append(']');
    }
}
