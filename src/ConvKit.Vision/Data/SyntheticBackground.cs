namespace ConvKit.Vision.Data;

/// <summary>Uniform draws from a <see cref="Generator"/> (32-bit resolution is plenty for procedural layouts).</summary>
internal readonly struct Draw(Generator generator)
{
    public Generator Generator => generator;

    /// <summary>U[lo, hi).</summary>
    public double Uniform(double lo = 0, double hi = 1) => lo + (hi - lo) * (generator.NextUInt32() * (1.0 / 4294967296.0));

    /// <summary>An integer in [0, n).</summary>
    public int Int(int n) => (int)(generator.NextUInt32() % (uint)n);

    public bool Chance(double p) => Uniform() < p;

    public Rgb Colour() => new((float)Uniform(), (float)Uniform(), (float)Uniform());
}

/// <summary>The pattern a synthetic background blends its two colours with.</summary>
internal enum BackgroundPattern { Gradient, Stripes, Checker, ValueNoise }

/// <summary>
/// A low-contrast textured background: two nearby colours <see cref="From"/> and <see cref="To"/> blended by a
/// pattern t(x, y) in [0, 1] (a linear gradient, soft stripes, a checkerboard or smooth value noise), so every
/// background colour lies on the segment between them and a shape colour can be chosen far from all of them.
/// </summary>
internal sealed class SyntheticBackground
{
    /// <summary>The largest per-channel difference between the two background colours.</summary>
    public const double MaxSpread = 0.2;

    private readonly BackgroundPattern _pattern;
    private readonly double _cos, _sin, _period, _phase;
    private readonly int _grid;
    private readonly double[] _noise;

    public Rgb From { get; }
    public Rgb To { get; }

    public SyntheticBackground(Draw draw, int height, int width)
    {
        From = draw.Colour();
        To = new Rgb(Nudge(draw, From.R), Nudge(draw, From.G), Nudge(draw, From.B));
        _pattern = (BackgroundPattern)draw.Int(4);
        double angle = draw.Uniform(0, Math.PI);
        (_cos, _sin) = (Math.Cos(angle), Math.Sin(angle));
        int side = Math.Min(height, width);
        _period = _pattern == BackgroundPattern.Gradient ? Math.Max(height, width) * 1.5 : draw.Uniform(0.08, 0.3) * side;
        _phase = draw.Uniform();
        _grid = 2 + draw.Int(5);
        _noise = new double[(_grid + 1) * (_grid + 1)];
        if (_pattern == BackgroundPattern.ValueNoise)
            for (int i = 0; i < _noise.Length; i++) _noise[i] = draw.Uniform();
        _height = height;
        _width = width;
    }

    private readonly int _height, _width;

    private static float Nudge(Draw draw, float c) => (float)Math.Clamp(c + draw.Uniform(-MaxSpread, MaxSpread), 0, 1);

    /// <summary>Writes the background into the planes of <paramref name="image"/> [3, H, W].</summary>
    public void Paint(Span<float> image)
    {
        int plane = _height * _width;
        for (int y = 0; y < _height; y++)
            for (int x = 0; x < _width; x++)
            {
                double t = Blend(x + 0.5, y + 0.5);
                for (int c = 0; c < 3; c++) image[c * plane + y * _width + x] = (float)(From[c] + t * (To[c] - From[c]));
            }
    }

    private double Blend(double x, double y)
    {
        double along = x * _cos + y * _sin;
        switch (_pattern)
        {
            case BackgroundPattern.Gradient:
                return Math.Clamp(along / _period + 0.5 * _phase, 0, 1);
            case BackgroundPattern.Stripes:
                return 0.5 + 0.5 * Math.Sin(2 * Math.PI * (along / _period + _phase));
            case BackgroundPattern.Checker:
                double across = -x * _sin + y * _cos;
                return (((long)Math.Floor(along / _period + _phase) + (long)Math.Floor(across / _period)) & 1) == 0 ? 0 : 1;
            default:
                return ValueNoise(x / _width * _grid, y / _height * _grid);
        }
    }

    /// <summary>Bilinear interpolation of the random lattice at (gx, gy) in [0, grid].</summary>
    private double ValueNoise(double gx, double gy)
    {
        int i = Math.Min((int)gx, _grid - 1), j = Math.Min((int)gy, _grid - 1);
        double fx = gx - i, fy = gy - j;
        double At(int a, int b) => _noise[b * (_grid + 1) + a];
        double top = At(i, j) + fx * (At(i + 1, j) - At(i, j)), bottom = At(i, j + 1) + fx * (At(i + 1, j + 1) - At(i, j + 1));
        return top + fy * (bottom - top);
    }
}
