using System.Numerics.Tensors;

namespace ConvKit.Data;

/// <summary>
/// Per-sample image transforms for <see cref="TensorDataset"/> (torchvision.transforms on tensors). Each
/// takes an image [..., H, W] (usually [C, H, W]) and the dataset's generator and returns a new tensor.
/// Random decisions draw from the generator the way torchvision draws from torch's generator
/// (<c>torch.randint</c> for crop offsets, <c>torch.rand(1)</c> for flips), so a seeded
/// <see cref="Generator"/> reproduces <c>torch.manual_seed</c> followed by the same transforms.
/// </summary>
public static class Transforms
{
    /// <summary>Applies the transforms in order (<c>transforms.Compose</c>).</summary>
    public static Func<Tensor, Generator, Tensor> Compose(params Func<Tensor, Generator, Tensor>[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        var steps = (Func<Tensor, Generator, Tensor>[])transforms.Clone();
        return (image, g) =>
        {
            foreach (var t in steps) image = t(image, g);
            return image;
        };
    }

    /// <summary>
    /// Pads every side with <paramref name="padding"/> zeros, then crops a random window of
    /// <paramref name="size"/> (an int or (h, w)) from [..., H + 2p, W + 2p]: <c>transforms.RandomCrop(size, padding)</c>.
    /// The window's top then left are drawn as <c>torch.randint(0, H + 2p - h + 1)</c>, <c>torch.randint(0, W + 2p - w + 1)</c>;
    /// nothing is drawn when the padded image already has the crop size. Output [..., h, w].
    /// </summary>
    public static Func<Tensor, Generator, Tensor> RandomCrop(Pair size, int padding = 0)
    {
        if (size.H <= 0 || size.W <= 0) throw new ArgumentException($"RandomCrop: expected a positive crop size, got {size}", nameof(size));
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        return (image, g) =>
        {
            var (lead, h, w) = Planes(image, "RandomCrop");
            int ph = h + 2 * padding, pw = w + 2 * padding;
            if (ph < size.H || pw < size.W)
                throw new ArgumentException($"RandomCrop: Required crop size {size} is larger than input image size ({ph}, {pw}) (image {ShapeUtil.Format(image.Shape)} with padding {padding})");
            int top = 0, left = 0;
            if (ph != size.H || pw != size.W)
            {
                top = RandomInt(g, ph - size.H + 1);
                left = RandomInt(g, pw - size.W + 1);
            }
            var src = image.Contiguous().Span;
            var shape = image.Shape.ToArray();
            shape[^2] = size.H;
            shape[^1] = size.W;
            var result = Tensor.Zeros(shape);
            var dst = result.Span;
            int x0 = Math.Max(0, padding - left), x1 = Math.Min(size.W, w + padding - left);
            for (int p = 0; p < lead && x0 < x1; p++)
                for (int y = 0; y < size.H; y++)
                {
                    int sy = top + y - padding;
                    if (sy < 0 || sy >= h) continue;
                    src.Slice(p * h * w + sy * w + left + x0 - padding, x1 - x0)
                       .CopyTo(dst.Slice(p * size.H * size.W + y * size.W + x0, x1 - x0));
                }
            return result;
        };
    }

    /// <summary>
    /// Mirrors the image left-right with probability <paramref name="p"/> (<c>transforms.RandomHorizontalFlip(p)</c>):
    /// draws one <c>torch.rand(1)</c> per call and flips when it is below p. Output has the input's shape.
    /// </summary>
    public static Func<Tensor, Generator, Tensor> RandomHorizontalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"RandomHorizontalFlip: expected a probability in [0, 1], got {p}");
        return (image, g) =>
        {
            var (lead, h, w) = Planes(image, "RandomHorizontalFlip");
            Span<float> u = stackalloc float[1];
            g.FillUniform(u);
            var result = image.Clone().Detach();
            if (u[0] < p)
            {
                var d = result.Span;
                for (int row = 0; row < lead * h; row++) d.Slice(row * w, w).Reverse();
            }
            return result;
        };
    }

    /// <summary>
    /// (x - mean[c]) / std[c] for each channel c of an image [C, H, W] (<c>transforms.Normalize(mean, std)</c>);
    /// one value in <paramref name="mean"/> / <paramref name="std"/> applies to every channel.
    /// </summary>
    public static Func<Tensor, Generator, Tensor> Normalize(float[] mean, float[] std)
    {
        CheckMeanStd(mean, std, channels: null);
        return (image, _) =>
        {
            if (image.Dim < 3)
                throw new ArgumentException($"Normalize: expected an image [C, H, W], got {ShapeUtil.Format(image.Shape)}");
            var result = image.Clone().Detach();
            NormalizeInPlace(result.Span, image.Size(-3), image.Size(-2) * image.Size(-1), mean, std);
            return result;
        };
    }

    /// <summary>Normalizes contiguous data laid out as [..., channels, plane] in place.</summary>
    internal static void NormalizeInPlace(Span<float> data, int channels, int plane, float[] mean, float[] std)
    {
        CheckMeanStd(mean, std, channels);
        for (int at = 0, c = 0; at < data.Length; at += plane, c = (c + 1) % channels)
        {
            var s = data.Slice(at, plane);
            TensorPrimitives.Subtract(s, mean[mean.Length == 1 ? 0 : c], s);
            TensorPrimitives.Divide(s, std[std.Length == 1 ? 0 : c], s);
        }
    }

    private static void CheckMeanStd(float[] mean, float[] std, int? channels)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        foreach (var (name, v) in new[] { ("mean", mean), ("std", std) })
            if (v.Length == 0 || (channels is int c && v.Length != 1 && v.Length != c))
                throw new ArgumentException($"Normalize: expected {name} with one value{(channels is int n ? $" or {n} (one per channel)" : " or one per channel")}, got {v.Length} values");
        if (std.Any(s => s == 0))
            throw new ArgumentException($"Normalize: std evaluated to zero, leading to division by zero (std = [{string.Join(", ", std)}])");
    }

    private static (int Lead, int H, int W) Planes(Tensor image, string op)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Dim < 2) throw new ArgumentException($"{op}: expected an image [..., H, W], got {ShapeUtil.Format(image.Shape)}");
        int h = image.Size(-2), w = image.Size(-1);
        return (h * w == 0 ? 0 : image.Numel / (h * w), h, w);
    }

    /// <summary><c>torch.randint(0, n, (1,))</c>: PyTorch's CPU generator takes one 32-bit draw modulo n for n &lt; 2^32.</summary>
    private static int RandomInt(Generator g, int n) => (int)(g.NextUInt32() % (uint)n);
}
