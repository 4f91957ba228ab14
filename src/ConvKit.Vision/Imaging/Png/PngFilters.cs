namespace ConvKit.Vision.Imaging.Png;

/// <summary>
/// The five PNG row filters (None, Sub, Up, Average, Paeth). Each predicts a byte from the byte
/// <c>bpp</c> to its left (a), the byte above (b) and the byte above-left (c); missing neighbours are 0.
/// </summary>
internal static class PngFilters
{
    public const int Count = 5;

    public static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static int Predict(int type, int a, int b, int c) => type switch
    {
        1 => a,
        2 => b,
        3 => (a + b) >> 1,
        4 => Paeth(a, b, c),
        _ => 0,
    };

    /// <summary>Reverses filter <paramref name="type"/> (already validated as 0 to 4) on <paramref name="row"/> in place.</summary>
    public static void Unfilter(int type, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        if (type == 0) return;
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, c = i >= bpp ? prior[i - bpp] : 0;
            row[i] = (byte)(row[i] + Predict(type, a, prior[i], c));
        }
    }

    /// <summary>Writes <paramref name="row"/> filtered with <paramref name="type"/> into <paramref name="output"/>.</summary>
    public static void Filter(int type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prior, int bpp, Span<byte> output)
    {
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, c = i >= bpp ? prior[i - bpp] : 0;
            output[i] = (byte)(row[i] - Predict(type, a, prior[i], c));
        }
    }

    /// <summary>
    /// The filter libpng's heuristic would pick: the one whose output, read as signed bytes, has the
    /// smallest sum of absolute values (small residuals compress best). <paramref name="scratch"/> holds
    /// one filtered row per filter type.
    /// </summary>
    public static int Choose(ReadOnlySpan<byte> row, ReadOnlySpan<byte> prior, int bpp, byte[][] scratch)
    {
        int best = 0;
        long bestSum = long.MaxValue;
        for (int type = 0; type < Count; type++)
        {
            Filter(type, row, prior, bpp, scratch[type]);
            long sum = 0;
            foreach (byte v in scratch[type].AsSpan(0, row.Length)) sum += Math.Abs((int)(sbyte)v);
            if (sum < bestSum) (best, bestSum) = (type, sum);
        }
        return best;
    }
}
