using ConvKit.Data;

namespace ConvKit.Vision.Data;

/// <summary>Which split of <see cref="SyntheticShapes"/> a dataset draws from; splits of one seed never share a sample seed.</summary>
public enum SyntheticSplit
{
    Train = 0,
    Val = 1,
}

/// <summary>
/// An embedded segmentation dataset that needs no files: procedurally generated RGB images [3, H, W] in [0, 1]
/// holding 1 to <see cref="MaxShapes"/> filled shapes (circles, axis-aligned or turned rectangles, triangles) of
/// random size (<see cref="MinExtent"/> to <see cref="MaxExtent"/> of the shorter side), position and colour over a
/// low-contrast textured background (gradient, stripes, checkerboard or value noise) with Gaussian pixel noise, and
/// masks [H, W] with 0 background, 1 circle, 2 rectangle, 3 triangle (<see cref="ClassNames"/>). Shapes are placed
/// apart where a few tries allow; when they do overlap, the later one occludes the earlier in image and mask. Colours are random per shape, so only the geometry identifies the class; each shape
/// colour is kept at least <see cref="MinContrast"/> (RGB distance) from every background colour and from the
/// shapes drawn before it.
/// </summary>
/// <remarks>
/// Sample i is a pure function of (seed, split, i, H, W): it is generated on each read from its own
/// <see cref="Generator"/>, so <c>ds[i]</c> is reproducible and concurrent reads (DataLoader workers) are safe.
/// The train and validation splits of one seed use disjoint per-sample seeds.
/// </remarks>
public sealed class SyntheticShapes : Dataset<SegmentationSample>
{
    /// <summary>Number of classes including background.</summary>
    public const int NumClasses = 4;

    /// <summary>The smallest allowed image side.</summary>
    public const int MinSize = 8;

    /// <summary>The smallest RGB distance between a shape colour and the background or the earlier shapes.</summary>
    public const double MinContrast = 0.3;

    /// <summary>At most this many shapes per image (at least one).</summary>
    public const int MaxShapes = 3;

    /// <summary>Shape extent as a fraction of the shorter image side: drawn in [MinExtent, MaxExtent].</summary>
    public const double MinExtent = 0.25, MaxExtent = 0.5;

    /// <summary>Class names by mask id: background, circle, rectangle, triangle.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = Array.AsReadOnly(new[] { "background", "circle", "rectangle", "triangle" });

    /// <param name="count">Number of samples, ≥ 0.</param>
    /// <param name="height">Image height H, ≥ <see cref="MinSize"/>.</param>
    /// <param name="width">Image width W, ≥ <see cref="MinSize"/>.</param>
    /// <param name="seed">The dataset seed.</param>
    /// <param name="split">Which split's per-sample seeds to use.</param>
    /// <exception cref="ArgumentException">A negative count, a side below <see cref="MinSize"/> or an unknown split.</exception>
    public SyntheticShapes(int count, int height = 64, int width = 64, ulong seed = 0, SyntheticSplit split = SyntheticSplit.Train)
    {
        if (count < 0) throw new ArgumentException($"SyntheticShapes: expected count >= 0, got {count}", nameof(count));
        if (height < MinSize || width < MinSize)
            throw new ArgumentException($"SyntheticShapes: expected an image size of at least {MinSize}x{MinSize}, got {height}x{width} (H x W)", height < MinSize ? nameof(height) : nameof(width));
        if (!Enum.IsDefined(split)) throw new ArgumentException($"SyntheticShapes: expected split Train or Val, got {(int)split}", nameof(split));
        Count = count;
        Height = height;
        Width = width;
        Seed = seed;
        Split = split;
    }

    /// <summary>The training split: <paramref name="count"/> samples of <paramref name="size"/>×<paramref name="size"/>.</summary>
    public static SyntheticShapes Train(int count, int size = 64, ulong seed = 0) => new(count, size, size, seed, SyntheticSplit.Train);

    /// <summary>The validation split, disjoint from <see cref="Train"/> with the same seed.</summary>
    public static SyntheticShapes Val(int count, int size = 64, ulong seed = 0) => new(count, size, size, seed, SyntheticSplit.Val);

    public override int Count { get; }

    /// <summary>Image height H.</summary>
    public int Height { get; }

    /// <summary>Image width W.</summary>
    public int Width { get; }

    public ulong Seed { get; }

    public SyntheticSplit Split { get; }

    /// <summary>The shapes of sample <paramref name="index"/> in drawing order (later ones on top).</summary>
    public IReadOnlyList<SyntheticShape> Layout(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"SyntheticShapes: index {index} is out of range for a dataset of {Count} samples (expected 0 <= index < {Count})");
        return Generate(index, out _, out _).AsReadOnly();
    }

    protected override SegmentationSample GetItem(int index)
    {
        var shapes = Generate(index, out var background, out var draw);
        int plane = Height * Width;
        var image = new float[3 * plane];
        var mask = new long[plane];
        background.Paint(image);
        foreach (var shape in shapes) Rasterise(shape, image, mask);
        AddNoise(image, draw);
        return new SegmentationSample(new Tensor(image, [3, Height, Width]), new LongTensor(mask, [Height, Width]));
    }

    /// <summary>
    /// The per-sample generator seed: a mixed dataset seed plus 2·index + split. Generator seeds mt19937 with the
    /// low 32 bits, and adding an even step keeps the parity, so the two splits of one seed never collide.
    /// </summary>
    private Generator SampleGenerator(int index)
    {
        ulong z = Seed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        uint key = unchecked((uint)z + 2u * (uint)index + (uint)Split);
        return new Generator(key);
    }

    private List<SyntheticShape> Generate(int index, out SyntheticBackground background, out Draw draw)
    {
        draw = new Draw(SampleGenerator(index));
        background = new SyntheticBackground(draw, Height, Width);
        int n = 1 + draw.Int(MaxShapes);
        var shapes = new List<SyntheticShape>(n);
        for (int k = 0; k < n; k++)
        {
            var colour = PickColour(draw, background, shapes);
            shapes.Add(DrawShape(draw, (ShapeKind)(1 + draw.Int(3)), colour, shapes));
        }
        return shapes;
    }

    /// <summary>A random colour at least <see cref="MinContrast"/> from the background and earlier shapes (the farthest of 64 tries otherwise).</summary>
    private static Rgb PickColour(Draw draw, SyntheticBackground background, List<SyntheticShape> earlier)
    {
        Rgb best = default;
        double bestDistance = -1;
        for (int attempt = 0; attempt < 64 && bestDistance < MinContrast; attempt++)
        {
            var c = draw.Colour();
            double d = c.DistanceToSegment(background.From, background.To);
            foreach (var s in earlier) d = Math.Min(d, c.DistanceTo(s.Colour));
            if (d > bestDistance) (best, bestDistance) = (c, d);
        }
        return best;
    }

    /// <summary>
    /// A shape of <paramref name="kind"/> whose centre is placed, within a few tries, so that its bounding circle
    /// keeps clear of the earlier shapes' (mostly whole shapes make the kinds recognisable; later ones may still
    /// overlap when the image is crowded, and then occlude the earlier ones).
    /// </summary>
    private SyntheticShape DrawShape(Draw draw, ShapeKind kind, Rgb colour, List<SyntheticShape> earlier)
    {
        int side = Math.Min(Height, Width);
        double extent = draw.Uniform(MinExtent, MaxExtent) * side, r = extent / 2;
        double cx = 0, cy = 0;
        for (int attempt = 0; attempt < 16; attempt++)
        {
            cx = draw.Uniform(0.2, 0.8) * Width;
            cy = draw.Uniform(0.2, 0.8) * Height;
            if (earlier.All(e => Clear(e, cx, cy, r))) break;
        }
        double angle = draw.Uniform(0, Math.PI);
        switch (kind)
        {
            case ShapeKind.Circle:
                return new EllipseShape(cx, cy, r, r, 0, colour);
            case ShapeKind.Rectangle:
                bool turned = draw.Chance(0.5);
                return new RectangleShape(cx, cy, r, r * draw.Uniform(0.45, 1.0), turned ? angle : 0, colour);
            default:
                // Vertices on a circle, about 120° apart with jitter, so no angle gets needle-thin.
                double a0 = draw.Uniform(0, 2 * Math.PI);
                double a1 = a0 + 2 * Math.PI / 3 + draw.Uniform(-0.4, 0.4);
                double a2 = a1 + 2 * Math.PI / 3 + draw.Uniform(-0.4, 0.4);
                double tr = r * 1.15;
                return new TriangleShape(cx + tr * Math.Cos(a0), cy + tr * Math.Sin(a0), cx + tr * Math.Cos(a1), cy + tr * Math.Sin(a1),
                    cx + tr * Math.Cos(a2), cy + tr * Math.Sin(a2), colour);
        }
    }

    private static bool Clear(SyntheticShape e, double cx, double cy, double r)
    {
        var (l, t, rr, b) = e.Bounds;
        double ex = (l + rr) / 2, ey = (t + b) / 2, er = Math.Max(rr - l, b - t) / 2;
        return Math.Sqrt((ex - cx) * (ex - cx) + (ey - cy) * (ey - cy)) >= er + r;
    }

    private void Rasterise(SyntheticShape shape, float[] image, long[] mask)
    {
        var (left, top, right, bottom) = shape.Bounds;
        int x0 = Math.Max(0, (int)Math.Floor(left)), x1 = Math.Min(Width - 1, (int)Math.Ceiling(right));
        int y0 = Math.Max(0, (int)Math.Floor(top)), y1 = Math.Min(Height - 1, (int)Math.Ceiling(bottom));
        int plane = Height * Width;
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                if (!shape.CoversPixel(y, x)) continue;
                int at = y * Width + x;
                mask[at] = (long)shape.Kind;
                for (int c = 0; c < 3; c++) image[c * plane + at] = shape.Colour[c];
            }
    }

    /// <summary>Adds N(0, σ²) pixel noise with σ drawn in [0.02, 0.06] and clamps to [0, 1].</summary>
    private static void AddNoise(float[] image, Draw draw)
    {
        float sigma = (float)draw.Uniform(0.02, 0.06);
        var noise = new float[image.Length];
        draw.Generator.FillNormal(noise, 0, sigma);
        for (int i = 0; i < image.Length; i++) image[i] = Math.Clamp(image[i] + noise[i], 0f, 1f);
    }
}
