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
        var shown = summarize ? ShownValues(data, shape, 0, 0).ToArray() : data;
        var fmt = ChooseFormat(shown, integral);
        int width = shown.Max(v => fmt(v).Length);
        var sb = new StringBuilder(prefix);
        Write(sb, data, shape, 0, 0, prefix.Length, width, fmt, summarize);
        return sb.Append(suffix).Append(')').ToString();
    }

    /// <summary>The values a summarized print shows (edge items of every dimension); PyTorch formats from these only.</summary>
    private static IEnumerable<double> ShownValues(double[] data, int[] shape, int dim, int offset)
    {
        if (shape.Length == 0) { yield return data[0]; yield break; }
        int n = shape[dim], inner = 1;
        for (int d = dim + 1; d < shape.Length; d++) inner *= shape[d];
        var idx = n > 2 * EdgeItems ? Enumerable.Range(0, EdgeItems).Concat(Enumerable.Range(n - EdgeItems, EdgeItems)) : Enumerable.Range(0, n);
        foreach (var i in idx)
        {
            if (dim == shape.Length - 1) yield return data[offset + i];
            else foreach (var v in ShownValues(data, shape, dim + 1, offset + i * inner)) yield return v;
        }
    }

    /// <summary>PyTorch's _Formatter: integer mode ("1."), fixed 4 decimals, or scientific when the range is wide.</summary>
    private static Func<double, string> ChooseFormat(double[] values, bool integral)
    {
        var inv = CultureInfo.InvariantCulture;
        if (integral) return v => ((long)v).ToString(inv);
        static string Special(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        var finite = values.Where(v => double.IsFinite(v) && v != 0).Select(Math.Abs).ToArray();
        bool intMode = finite.All(v => Math.Ceiling(v) == v);
        Func<double, string> sci = v => double.IsFinite(v) ? v.ToString("0.0000e+00", inv) : Special(v);
        Func<double, string> ints = v => double.IsFinite(v) ? v.ToString("0", inv) + "." : Special(v);
        if (finite.Length == 0) return ints;
        double max = finite.Max(), min = finite.Min();
        if (intMode) return max / min > 1000 || max > 1e8 ? sci : ints;
        if (max / min > 1000 || max > 1e8 || min < 1e-4) return sci;
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
                if (k > 0) sb.Append(k % perLine == 0 ? ",\n" + new string(' ', indent + 1) : ", ");
                sb.Append(idx[k] < 0 ? " ..." : fmt(data[offset + idx[k]]).PadLeft(width));
            }
        }
        else
        {
            string sep = "," + new string('\n', shape.Length - dim - 1) + new string(' ', indent + 1);
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
