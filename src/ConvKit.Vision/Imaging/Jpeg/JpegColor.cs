namespace ConvKit.Vision.Imaging.Jpeg;

/// <summary>
/// Turns decoded component planes into an 8-bit image the way libjpeg-turbo does with its defaults
/// (jdsample.c, jdcolor.c):
/// <list type="bullet">
/// <item>"fancy" upsampling by a triangle filter for 2x horizontal (h2v1), 2x vertical (h1v2) and 2x2
/// (h2v2) chroma: each output sample weighs its nearer input 3/4 and the farther 1/4, with libjpeg's
/// alternating rounding biases; edges replicate the last real sample or row. As in libjpeg, h2v1 and
/// h2v2 fall back to plain replication when the subsampled component is at most 2 samples wide, and
/// other integral ratios are replicated;</item>
/// <item>YCbCr -> RGB with libjpeg's 16-bit fixed-point tables (R = Y + 1.402 Cr', G = Y - 0.34414 Cb' -
/// 0.71414 Cr', B = Y + 1.772 Cb', with the same rounding), clamped to 0-255.</item>
/// </list>
/// </summary>
internal static class JpegColor
{
    private const int ScaleBits = 16, Half = 1 << (ScaleBits - 1);
    private static readonly int[] CrR = new int[256], CbB = new int[256], CrG = new int[256], CbG = new int[256];

    static JpegColor()
    {
        static int Fix(double x) => (int)(x * (1 << ScaleBits) + 0.5);
        for (int i = 0; i < 256; i++)
        {
            int x = i - 128;
            CrR[i] = (Fix(1.40200) * x + Half) >> ScaleBits;
            CbB[i] = (Fix(1.77200) * x + Half) >> ScaleBits;
            CrG[i] = -Fix(0.71414) * x;
            CbG[i] = -Fix(0.34414) * x + Half;
        }
    }

    public static Image ToImage(JpegFrame frame, bool yCbCr)
    {
        int width = frame.Width, height = frame.Height, n = frame.Components.Length;
        var planes = new byte[n][];
        for (int i = 0; i < n; i++) planes[i] = Upsample(frame.Components[i], frame.HMax / frame.Components[i].H, frame.VMax / frame.Components[i].V, width, height);
        var image = new Image(width, height, n);
        var data = image.Data;
        if (n == 1)
        {
            planes[0].CopyTo(data, 0);
            return image;
        }
        for (int i = 0; i < width * height; i++)
        {
            int y = planes[0][i], cb = planes[1][i], cr = planes[2][i];
            if (yCbCr)
            {
                data[3 * i] = Clamp(y + CrR[cr]);
                data[3 * i + 1] = Clamp(y + ((CbG[cb] + CrG[cr]) >> ScaleBits));
                data[3 * i + 2] = Clamp(y + CbB[cb]);
            }
            else
            {
                data[3 * i] = (byte)y;
                data[3 * i + 1] = (byte)cb;
                data[3 * i + 2] = (byte)cr;
            }
        }
        return image;
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);

    /// <summary>The component at full image size, width x height, tightly packed.</summary>
    private static byte[] Upsample(JpegComponent c, int hr, int vr, int width, int height)
    {
        var output = new byte[width * height];
        var row = new byte[c.Width * hr];
        for (int y = 0; y < height; y++)
        {
            int sy = y / vr;
            var current = c.Samples.AsSpan(sy * c.Stride, c.Width);
            // libjpeg's choice (jdsample.c jinit_upsampler): triangle filters only for exactly 2x1, 1x2 and 2x2
            bool wide = c.Width > 2, fancyH = hr == 2 && vr == 1 && wide, fancyV = vr == 2 && (hr == 1 || (hr == 2 && wide));
            if (fancyV)
            {
                // the nearer neighbouring row: above for the upper output row of a pair, below for the lower
                int ny = Math.Clamp(y % 2 == 0 ? sy - 1 : sy + 1, 0, c.Height - 1);
                var near = c.Samples.AsSpan(ny * c.Stride, c.Width);
                if (hr == 1) VerticalFancy(current, near, y % 2 == 0 ? 1 : 2, row);
                else DiagonalFancy(current, near, row);
            }
            else if (fancyH)
            {
                HorizontalFancy(current, row);
            }
            else
            {
                for (int x = 0; x < row.Length; x++) row[x] = current[x / hr];
            }
            row.AsSpan(0, width).CopyTo(output.AsSpan(y * width));
        }
        return output;
    }

    /// <summary>h2v1: out[2i] = (3 in[i] + in[i-1] + 1) / 4, out[2i+1] = (3 in[i] + in[i+1] + 2) / 4, edges replicated.</summary>
    private static void HorizontalFancy(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int last = input.Length - 1;
        for (int i = 0; i <= last; i++)
        {
            int three = input[i] * 3;
            output[2 * i] = (byte)((three + input[Math.Max(i - 1, 0)] + 1) >> 2);
            output[2 * i + 1] = (byte)((three + input[Math.Min(i + 1, last)] + 2) >> 2);
        }
    }

    /// <summary>h1v2: out = (3 current + nearer row + bias) / 4, bias 1 for the upper and 2 for the lower output row.</summary>
    private static void VerticalFancy(ReadOnlySpan<byte> current, ReadOnlySpan<byte> near, int bias, Span<byte> output)
    {
        for (int i = 0; i < current.Length; i++) output[i] = (byte)((current[i] * 3 + near[i] + bias) >> 2);
    }

    /// <summary>h2v2: vertical 3:1 column sums, then horizontal 3:1 between sums, biases 8 and 7, all over 16.</summary>
    private static void DiagonalFancy(ReadOnlySpan<byte> current, ReadOnlySpan<byte> near, Span<byte> output)
    {
        int last = current.Length - 1;
        for (int i = 0; i <= last; i++)
        {
            int sum = current[i] * 3 + near[i];
            int left = current[Math.Max(i - 1, 0)] * 3 + near[Math.Max(i - 1, 0)];
            int right = current[Math.Min(i + 1, last)] * 3 + near[Math.Min(i + 1, last)];
            output[2 * i] = (byte)((sum * 3 + left + 8) >> 4);
            output[2 * i + 1] = (byte)((sum * 3 + right + 7) >> 4);
        }
    }
}
