using System.Globalization;
using System.Text;

namespace ConvKit.Vision.Metrics;

/// <summary>
/// A confusion matrix over <see cref="NumClasses"/> classes, accumulated over batches, with the segmentation
/// metrics of torchvision's <c>references/segmentation/utils.py</c> <c>ConfusionMatrix</c>: rows are targets,
/// columns are predictions; pixel (global) accuracy, per-class accuracy (recall) and per-class IoU.
/// </summary>
/// <remarks>
/// Differences from torchvision's reference, on purpose:
/// <list type="bullet">
/// <item>A target equal to <see cref="IgnoreIndex"/> is skipped (torchvision skips every target outside [0, n));
/// any other target or a counted prediction outside [0, <see cref="NumClasses"/>) throws
/// <see cref="ArgumentException"/> naming the value, its position and the class count.</item>
/// <item><see cref="MeanIoU"/> averages over the classes whose union is non-zero (that appear in target or
/// prediction), as <c>torch.nanmean(iu)</c>. torchvision prints <c>iu.mean()</c>, which is NaN as soon as one
/// class is absent from both; when every class appears the two agree.</item>
/// </list>
/// </remarks>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    /// <param name="numClasses">Number of classes n ≥ 1.</param>
    /// <param name="ignoreIndex">The target value to skip (VOC's 255 border, the loss's ignore_index).</param>
    public ConfusionMatrix(int numClasses, long ignoreIndex = 255)
    {
        if (numClasses < 1) throw new ArgumentException($"ConfusionMatrix: expected numClasses >= 1, got {numClasses}", nameof(numClasses));
        if (ignoreIndex >= 0 && ignoreIndex < numClasses)
            throw new ArgumentException($"ConfusionMatrix: ignoreIndex {ignoreIndex} is a class id; expected a value outside [0, {numClasses})", nameof(ignoreIndex));
        NumClasses = numClasses;
        IgnoreIndex = ignoreIndex;
        _counts = new long[numClasses * numClasses];
    }

    public int NumClasses { get; }

    public long IgnoreIndex { get; }

    /// <summary>The count of samples (pixels) with target <paramref name="target"/> predicted as <paramref name="prediction"/>.</summary>
    public long this[int target, int prediction]
    {
        get
        {
            if ((uint)target >= (uint)NumClasses || (uint)prediction >= (uint)NumClasses)
                throw new ArgumentOutOfRangeException(nameof(target), $"ConfusionMatrix: expected target and prediction in [0, {NumClasses}), got ({target}, {prediction})");
            return _counts[target * NumClasses + prediction];
        }
    }

    /// <summary>A copy of the counts [n, n]: rows are targets, columns predictions (torchvision's <c>mat</c>).</summary>
    public long[,] Matrix
    {
        get
        {
            var m = new long[NumClasses, NumClasses];
            for (int i = 0; i < NumClasses; i++)
                for (int j = 0; j < NumClasses; j++) m[i, j] = _counts[i * NumClasses + j];
            return m;
        }
    }

    /// <summary>Number of counted (not ignored) samples or pixels.</summary>
    public long Total => _counts.Sum();

    /// <summary>
    /// Counts class predictions against targets of the same shape: [N, H, W] for segmentation, [N] for
    /// classification (any shape works as long as both agree).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ, or a value is outside [0, n) (targets may also be <see cref="IgnoreIndex"/>).</exception>
    public void Update(LongTensor predictions, LongTensor targets)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(targets);
        if (!predictions.Shape.SequenceEqual(targets.Shape))
            throw new ArgumentException($"ConfusionMatrix.Update: expected predictions and targets of the same shape, got predictions {ShapeUtil.Format(predictions.Shape)} and targets {ShapeUtil.Format(targets.Shape)}");
        Accumulate(predictions.Span, targets.Span, targets.Shape);
    }

    /// <summary>
    /// Counts the argmax over the class dimension of <paramref name="logits"/> [N, C, H, W] (or [N, C]) against
    /// <paramref name="targets"/> [N, H, W] (or [N]), as torchvision's <c>output.argmax(1)</c>; C must equal n.
    /// </summary>
    public void Update(Tensor logits, LongTensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        var expected = logits.Dim >= 2 ? logits.Shape.Where((_, d) => d != 1).ToArray() : null;
        if (expected is null || (logits.Dim != 2 && logits.Dim != 4) || logits.Size(1) != NumClasses || !expected.SequenceEqual(targets.Shape))
            throw new ArgumentException(
                $"ConfusionMatrix.Update: expected logits [N, {NumClasses}, H, W] with targets [N, H, W] (or [N, {NumClasses}] with [N]), got logits {ShapeUtil.Format(logits.Shape)} and targets {ShapeUtil.Format(targets.Shape)}");
        Accumulate(logits.Detach().Argmax(1).Span, targets.Span, targets.Shape);
    }

    private void Accumulate(ReadOnlySpan<long> predictions, ReadOnlySpan<long> targets, IReadOnlyList<int> shape)
    {
        int n = NumClasses;
        var counts = new long[_counts.Length];
        for (int i = 0; i < targets.Length; i++)
        {
            long t = targets[i], p = predictions[i];
            if (t == IgnoreIndex) continue;
            if ((ulong)t >= (ulong)n) throw OutOfRange("target", t, i, shape);
            if ((ulong)p >= (ulong)n) throw OutOfRange("prediction", p, i, shape);
            counts[t * n + p]++;
        }
        // Validate the whole batch before counting any of it, so a bad batch leaves the matrix unchanged.
        for (int k = 0; k < counts.Length; k++) _counts[k] += counts[k];
    }

    private ArgumentException OutOfRange(string what, long value, int flat, IReadOnlyList<int> shape)
    {
        var index = new int[shape.Count];
        for (int d = shape.Count - 1; d >= 0; d--) { index[d] = flat % shape[d]; flat /= shape[d]; }
        string allowed = what == "target" ? $"a class in [0, {NumClasses}) or the ignore index {IgnoreIndex}" : $"a class in [0, {NumClasses})";
        return new ArgumentException($"ConfusionMatrix.Update: {what} value {value} at position {ShapeUtil.Format(index)} of {ShapeUtil.Format(shape)}; expected {allowed} (numClasses = {NumClasses})");
    }

    /// <summary>Clears all counts.</summary>
    public void Reset() => Array.Clear(_counts);

    /// <summary>Adds the counts of <paramref name="other"/> (e.g. from another worker); both must have the same n.</summary>
    public void Merge(ConfusionMatrix other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.NumClasses != NumClasses)
            throw new ArgumentException($"ConfusionMatrix.Merge: expected a matrix over {NumClasses} classes, got {other.NumClasses}", nameof(other));
        for (int k = 0; k < _counts.Length; k++) _counts[k] += other._counts[k];
    }

    private long Diagonal(int c) => _counts[c * NumClasses + c];

    private long RowSum(int c) => Sum(c * NumClasses, 1);

    private long ColumnSum(int c) => Sum(c, NumClasses);

    private long Sum(int start, int stride)
    {
        long s = 0;
        for (int k = 0; k < NumClasses; k++) s += _counts[start + k * stride];
        return s;
    }

    /// <summary>Correct / counted over all pixels (torchvision's <c>acc_global</c>); NaN before any update.</summary>
    public double PixelAccuracy => Ratio(Enumerable.Range(0, NumClasses).Sum(Diagonal), Total);

    /// <summary>Classification accuracy, the same quantity as <see cref="PixelAccuracy"/>.</summary>
    public double Accuracy => PixelAccuracy;

    /// <summary>Per-class accuracy (recall) TP / (TP + FN), torchvision's <c>acc</c>; NaN for a class absent from the targets.</summary>
    public double[] ClassAccuracy => PerClass(c => Ratio(Diagonal(c), RowSum(c)));

    /// <summary>Per-class IoU TP / (TP + FP + FN), torchvision's <c>iu</c>; NaN for a class in neither target nor prediction.</summary>
    public double[] IoU => PerClass(c => Ratio(Diagonal(c), RowSum(c) + ColumnSum(c) - Diagonal(c)));

    /// <summary>
    /// Mean of <see cref="IoU"/> over the classes with a non-zero union (<c>torch.nanmean(iu)</c>); classes in
    /// neither target nor prediction are excluded. NaN when no class has been counted.
    /// </summary>
    public double MeanIoU => NanMean(IoU);

    /// <summary>Mean of <see cref="ClassAccuracy"/> over the classes present in the targets.</summary>
    public double MeanClassAccuracy => NanMean(ClassAccuracy);

    private double[] PerClass(Func<int, double> f) => Enumerable.Range(0, NumClasses).Select(f).ToArray();

    private static double Ratio(long a, long b) => b == 0 ? double.NaN : (double)a / b;

    private static double NanMean(double[] values)
    {
        var present = values.Where(v => !double.IsNaN(v)).ToArray();
        return present.Length == 0 ? double.NaN : present.Average();
    }

    /// <summary>
    /// A small table: one row per class with its IoU and accuracy in percent (“-” for NaN), then pixel
    /// accuracy and mean IoU. <paramref name="classNames"/> label the rows (class ids when null).
    /// </summary>
    public string Format(IReadOnlyList<string>? classNames = null)
    {
        if (classNames is not null && classNames.Count != NumClasses)
            throw new ArgumentException($"ConfusionMatrix.Format: expected {NumClasses} class names, got {classNames.Count}", nameof(classNames));
        var names = Enumerable.Range(0, NumClasses).Select(c => classNames?[c] ?? c.ToString(CultureInfo.InvariantCulture)).ToArray();
        int width = Math.Max(5, names.Max(s => s.Length));
        var iou = IoU;
        var acc = ClassAccuracy;
        var sb = new StringBuilder();
        sb.AppendLine($"{"class".PadRight(width)}  {"IoU",6}  {"acc",6}  {"pixels",9}");
        for (int c = 0; c < NumClasses; c++)
            sb.AppendLine($"{names[c].PadRight(width)}  {Percent(iou[c]),6}  {Percent(acc[c]),6}  {RowSum(c),9}");
        sb.AppendLine($"pixel accuracy {Percent(PixelAccuracy)}  mean IoU {Percent(MeanIoU)}  ({Total} counted)");
        return sb.ToString();
    }

    private static string Percent(double v) => double.IsNaN(v) ? "-" : (v * 100).ToString("F1", CultureInfo.InvariantCulture);

    public override string ToString() => Format();
}
