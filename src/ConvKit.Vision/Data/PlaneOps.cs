namespace ConvKit.Vision.Data;

/// <summary>Crop and flip over row-major planes [P, H, W] of any element type, shared by images (float) and masks (long).</summary>
internal static class PlaneOps
{
    /// <summary>A window of OutH × OutW at (Top, Left) of an H × W plane; it may reach outside the plane.</summary>
    internal readonly record struct Window(int H, int W, int Top, int Left, int OutH, int OutW);

    /// <summary>Copies the window of each of the <paramref name="planes"/> planes; positions outside the source take <paramref name="fill"/>.</summary>
    public static T[] Crop<T>(ReadOnlySpan<T> src, int planes, Window win, T fill)
    {
        var dst = new T[planes * win.OutH * win.OutW];
        dst.AsSpan().Fill(fill);
        int x0 = Math.Max(0, -win.Left), x1 = Math.Min(win.OutW, win.W - win.Left);
        for (int p = 0; p < planes && x0 < x1; p++)
            for (int y = 0; y < win.OutH; y++)
            {
                int sy = win.Top + y;
                if (sy < 0 || sy >= win.H) continue;
                src.Slice((p * win.H + sy) * win.W + win.Left + x0, x1 - x0)
                   .CopyTo(dst.AsSpan((p * win.OutH + y) * win.OutW + x0, x1 - x0));
            }
        return dst;
    }

    /// <summary>Reverses each of the <paramref name="rows"/> rows of width <paramref name="w"/> in place.</summary>
    public static void FlipRows<T>(Span<T> data, int rows, int w)
    {
        for (int r = 0; r < rows; r++) data.Slice(r * w, w).Reverse();
    }
}
