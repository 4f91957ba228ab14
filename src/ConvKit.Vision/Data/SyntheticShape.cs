namespace ConvKit.Vision.Data;

/// <summary>The class of a synthetic shape; the value is its id in the mask (0 is background).</summary>
public enum ShapeKind
{
    Circle = 1,
    Rectangle = 2,
    Triangle = 3,
}

/// <summary>An RGB colour with channels in [0, 1].</summary>
public readonly record struct Rgb(float R, float G, float B)
{
    /// <summary>Channel 0, 1 or 2.</summary>
    public float this[int channel] => channel switch { 0 => R, 1 => G, 2 => B, _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "expected a channel 0, 1 or 2") };

    /// <summary>Euclidean distance in RGB space (at most √3).</summary>
    public double DistanceTo(Rgb other) => Math.Sqrt(Sq(R - other.R) + Sq(G - other.G) + Sq(B - other.B));

    /// <summary>Distance to the nearest colour on the segment from <paramref name="a"/> to <paramref name="b"/>.</summary>
    public double DistanceToSegment(Rgb a, Rgb b)
    {
        double dr = b.R - a.R, dg = b.G - a.G, db = b.B - a.B, len2 = dr * dr + dg * dg + db * db;
        double t = len2 == 0 ? 0 : Math.Clamp(((R - a.R) * dr + (G - a.G) * dg + (B - a.B) * db) / len2, 0, 1);
        return Math.Sqrt(Sq(R - a.R - t * dr) + Sq(G - a.G - t * dg) + Sq(B - a.B - t * db));
    }

    private static double Sq(double v) => v * v;
}

/// <summary>
/// One filled shape of a <see cref="SyntheticShapes"/> sample, in pixel coordinates: x to the right, y down,
/// the pixel at row i, column j has its centre at (j + 0.5, i + 0.5). A pixel belongs to the shape when its
/// centre is inside (<see cref="Contains"/>); image and mask use this same rule, without anti-aliasing.
/// </summary>
public abstract record SyntheticShape(ShapeKind Kind, Rgb Colour)
{
    /// <summary>Whether the point (x, y) lies inside the shape (boundary included).</summary>
    public abstract bool Contains(double x, double y);

    /// <summary>A box (left, top, right, bottom) in pixel coordinates that encloses the shape.</summary>
    public abstract (double Left, double Top, double Right, double Bottom) Bounds { get; }

    /// <summary>Whether the pixel at (<paramref name="row"/>, <paramref name="column"/>) is covered.</summary>
    public bool CoversPixel(int row, int column) => Contains(column + 0.5, row + 0.5);

    /// <summary>(x, y) in the frame of a shape centred at (cx, cy) and turned by <paramref name="angle"/> radians.</summary>
    private protected static (double U, double V) Local(double x, double y, double cx, double cy, double angle)
    {
        double dx = x - cx, dy = y - cy, c = Math.Cos(angle), s = Math.Sin(angle);
        return (c * dx + s * dy, -s * dx + c * dy);
    }

    /// <summary>The bounding box of a centred box with half-extents (hu, hv) turned by <paramref name="angle"/>.</summary>
    private protected static (double, double, double, double) TurnedBox(double cx, double cy, double hu, double hv, double angle)
    {
        double c = Math.Abs(Math.Cos(angle)), s = Math.Abs(Math.Sin(angle));
        double ex = c * hu + s * hv, ey = s * hu + c * hv;
        return (cx - ex, cy - ey, cx + ex, cy + ey);
    }
}

/// <summary>A filled ellipse with semi-axes <paramref name="RadiusU"/>, <paramref name="RadiusV"/> turned by <paramref name="Angle"/> (a circle when equal); class <see cref="ShapeKind.Circle"/>.</summary>
public sealed record EllipseShape(double CenterX, double CenterY, double RadiusU, double RadiusV, double Angle, Rgb Colour)
    : SyntheticShape(ShapeKind.Circle, Colour)
{
    public override bool Contains(double x, double y)
    {
        var (u, v) = Local(x, y, CenterX, CenterY, Angle);
        return (u * u) / (RadiusU * RadiusU) + (v * v) / (RadiusV * RadiusV) <= 1;
    }

    public override (double Left, double Top, double Right, double Bottom) Bounds
    {
        get
        {
            // The exact box of a turned ellipse: half-width √(a²cos² + b²sin²), half-height √(a²sin² + b²cos²).
            double c = Math.Cos(Angle), s = Math.Sin(Angle);
            double ex = Math.Sqrt(Sq(RadiusU * c) + Sq(RadiusV * s)), ey = Math.Sqrt(Sq(RadiusU * s) + Sq(RadiusV * c));
            return (CenterX - ex, CenterY - ey, CenterX + ex, CenterY + ey);
        }
    }

    private static double Sq(double v) => v * v;
}

/// <summary>A filled rectangle with half-extents <paramref name="HalfU"/>, <paramref name="HalfV"/> turned by <paramref name="Angle"/> (0 for axis aligned); class <see cref="ShapeKind.Rectangle"/>.</summary>
public sealed record RectangleShape(double CenterX, double CenterY, double HalfU, double HalfV, double Angle, Rgb Colour)
    : SyntheticShape(ShapeKind.Rectangle, Colour)
{
    public override bool Contains(double x, double y)
    {
        var (u, v) = Local(x, y, CenterX, CenterY, Angle);
        return Math.Abs(u) <= HalfU && Math.Abs(v) <= HalfV;
    }

    public override (double Left, double Top, double Right, double Bottom) Bounds => TurnedBox(CenterX, CenterY, HalfU, HalfV, Angle);
}

/// <summary>A filled triangle with vertices (X0, Y0), (X1, Y1), (X2, Y2); class <see cref="ShapeKind.Triangle"/>.</summary>
public sealed record TriangleShape(double X0, double Y0, double X1, double Y1, double X2, double Y2, Rgb Colour)
    : SyntheticShape(ShapeKind.Triangle, Colour)
{
    public override bool Contains(double x, double y)
    {
        double d0 = Cross(X0, Y0, X1, Y1, x, y), d1 = Cross(X1, Y1, X2, Y2, x, y), d2 = Cross(X2, Y2, X0, Y0, x, y);
        bool anyNegative = d0 < 0 || d1 < 0 || d2 < 0, anyPositive = d0 > 0 || d1 > 0 || d2 > 0;
        return !(anyNegative && anyPositive);
    }

    public override (double Left, double Top, double Right, double Bottom) Bounds =>
        (Math.Min(X0, Math.Min(X1, X2)), Math.Min(Y0, Math.Min(Y1, Y2)), Math.Max(X0, Math.Max(X1, X2)), Math.Max(Y0, Math.Max(Y1, Y2)));

    private static double Cross(double ax, double ay, double bx, double by, double px, double py) => (bx - ax) * (py - ay) - (by - ay) * (px - ax);
}
