namespace ConvKit.Vision.Imaging;

/// <summary>
/// An 8-bit image: <see cref="Width"/> x <see cref="Height"/> pixels of <see cref="Channels"/> interleaved
/// samples (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) stored row by row in <see cref="Data"/> (HWC order, the
/// layout of <c>numpy.asarray(pil_image)</c>). An indexed image has one channel of palette indices and a
/// <see cref="Palette"/> of RGB triples, the equivalent of PIL's mode "P".
/// </summary>
public sealed class Image
{
    /// <summary>Creates an image over <paramref name="data"/> (not copied), or over zeros when it is null.</summary>
    public Image(int width, int height, int channels, byte[]? data = null, byte[]? palette = null, byte[]? paletteAlpha = null)
    {
        if (channels is < 1 or > 4)
            throw new ArgumentException($"Image: channels must be 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA), got {channels}", nameof(channels));
        if (width < 1 || height < 1 || width > ImageLimits.MaxDimension || height > ImageLimits.MaxDimension)
            throw new ArgumentException($"Image: width and height must be 1 to {ImageLimits.MaxDimension}, got {width}x{height}");
        long bytes = (long)width * height * channels;
        if (bytes > ImageLimits.MaxBytes)
            throw new ArgumentException($"Image: {width}x{height}x{channels} needs {bytes} bytes; at most {ImageLimits.MaxBytes} are allowed");
        data ??= new byte[bytes];
        if (data.Length != bytes)
            throw new ArgumentException($"Image: {width}x{height}x{channels} needs {bytes} bytes of data, got {data.Length}", nameof(data));
        if (palette is not null)
        {
            if (channels != 1)
                throw new ArgumentException($"Image: a palette needs a 1-channel index image, got {channels} channels", nameof(palette));
            if (palette.Length == 0 || palette.Length % 3 != 0 || palette.Length > 768)
                throw new ArgumentException($"Image: the palette must hold 1 to 256 RGB triples, got {palette.Length} bytes", nameof(palette));
        }
        if (paletteAlpha is not null && (palette is null || paletteAlpha.Length > palette.Length / 3))
            throw new ArgumentException($"Image: palette alpha needs a palette with at least {paletteAlpha.Length} entries", nameof(paletteAlpha));
        Width = width;
        Height = height;
        Channels = channels;
        Data = data;
        Palette = palette;
        PaletteAlpha = paletteAlpha;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>1 grey (or palette index), 2 grey+alpha, 3 RGB, 4 RGBA.</summary>
    public int Channels { get; }

    /// <summary>The samples, row-major, channels interleaved: sample (y, x, c) is at <c>(y * Width + x) * Channels + c</c>.</summary>
    public byte[] Data { get; }

    /// <summary>RGB triples of an indexed image (PNG PLTE), or null.</summary>
    public byte[]? Palette { get; }

    /// <summary>Alpha of the first palette entries (PNG tRNS of a palette image), or null; missing entries are opaque.</summary>
    public byte[]? PaletteAlpha { get; }

    /// <summary>True for an indexed image: <see cref="Data"/> holds palette indices.</summary>
    public bool IsIndexed => Palette is not null;

    /// <summary>
    /// A float32 tensor [C, H, W] with values in [0, 1]: each byte divided by 255, like torchvision's
    /// <c>to_tensor</c>. As there, an indexed image gives its indices / 255; call <see cref="ToRgb"/> first
    /// for colours or <see cref="ToClassIds"/> for a mask.
    /// </summary>
    public Tensor ToTensor()
    {
        int plane = Width * Height;
        var values = GC.AllocateUninitializedArray<float>(plane * Channels);
        for (int c = 0; c < Channels; c++)
        {
            var dst = values.AsSpan(c * plane, plane);
            for (int i = 0, s = c; i < plane; i++, s += Channels) dst[i] = Data[s] / 255f;
        }
        return new Tensor(values, [Channels, Height, Width]);
    }

    /// <summary>
    /// An image from a tensor [C, H, W] (C = 1 to 4) or [H, W] of values in [0, 1]: values are clamped to
    /// [0, 1], scaled by 255 and rounded to the nearest integer. torchvision's <c>to_pil_image</c> truncates
    /// instead; rounding makes <c>FromTensor(img.ToTensor())</c> lossless whatever the float error.
    /// NaN is rejected.
    /// </summary>
    public static Image FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var shape = tensor.Sizes;
        if (shape.Length is not (2 or 3) || (shape.Length == 3 && shape[0] is < 1 or > 4))
            throw new ArgumentException($"Image.FromTensor: expected a tensor [C, H, W] with C = 1 to 4 or [H, W], got {ShapeUtil.Format(shape)}", nameof(tensor));
        int c = shape.Length == 3 ? shape[0] : 1, h = shape[^2], w = shape[^1];
        var values = tensor.ToArray();
        var image = new Image(w, h, c);
        int plane = w * h;
        for (int ch = 0; ch < c; ch++)
        {
            for (int i = 0; i < plane; i++)
            {
                float v = values[ch * plane + i];
                if (float.IsNaN(v))
                    throw new ArgumentException($"Image.FromTensor: NaN at channel {ch}, y {i / w}, x {i % w}", nameof(tensor));
                image.Data[i * c + ch] = (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);
            }
        }
        return image;
    }

    /// <summary>
    /// The image with <paramref name="channels"/> channels, 1 (grey) or 3 (RGB), for a model that expects them:
    /// palettes are expanded, alpha is dropped, grey is repeated to RGB and RGB becomes grey by ITU-R 601 luma in
    /// PIL's fixed-point arithmetic (<c>convert("L")</c>).
    /// </summary>
    public Image ToChannels(int channels)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"Image.ToChannels: expected 1 (grey) or 3 (RGB) channels, got {channels}");
        var image = ToRgb();
        int src = image.Channels;
        if (src == channels) return image;
        var result = new Image(image.Width, image.Height, channels);
        for (int i = 0, n = image.Width * image.Height; i < n; i++)
        {
            var px = image.Data.AsSpan(i * src, src);
            if (channels == 1)
                result.Data[i] = src >= 3 ? (byte)((px[0] * 19595 + px[1] * 38470 + px[2] * 7471 + 0x8000) >> 16) : px[0];
            else if (src >= 3)
                px[..3].CopyTo(result.Data.AsSpan(i * 3, 3));
            else
                result.Data.AsSpan(i * 3, 3).Fill(px[0]);
        }
        return result;
    }

    /// <summary>The image as float32 [<paramref name="channels"/>, H, W] in [0, 1]: <see cref="ToChannels"/>, then <see cref="ToTensor()"/>.</summary>
    public Tensor ToTensor(int channels) => ToChannels(channels).ToTensor();

    /// <summary>
    /// The colours of an indexed image as RGB, or RGBA when it has <see cref="PaletteAlpha"/> (PIL's
    /// <c>convert("RGB")</c> / <c>convert("RGBA")</c>). An index i beyond the palette gives (i, i, i), as in PIL,
    /// whose palette starts as a grey ramp that the file's entries overwrite.
    /// A non-indexed image is returned as is.
    /// </summary>
    public Image ToRgb()
    {
        if (Palette is null) return this;
        int channels = PaletteAlpha is null ? 3 : 4;
        var lut = new byte[256 * channels];
        for (int i = 0; i < 256; i++)
        {
            for (int k = 0; k < 3; k++) lut[i * channels + k] = 3 * i + k < Palette.Length ? Palette[3 * i + k] : (byte)i;
            if (channels == 4) lut[i * 4 + 3] = i < PaletteAlpha!.Length ? PaletteAlpha[i] : (byte)255;
        }
        var rgb = new Image(Width, Height, channels);
        for (int i = 0; i < Data.Length; i++) lut.AsSpan(Data[i] * channels, channels).CopyTo(rgb.Data.AsSpan(i * channels));
        return rgb;
    }

    /// <summary>
    /// The class ids of a segmentation mask, an int64 tensor [H, W]: the palette indices of an indexed
    /// image or the values of a grey one (VOC masks: 0 background, 1-20 classes, 255 ignore).
    /// </summary>
    public LongTensor ToClassIds()
    {
        if (Channels != 1)
            throw new InvalidOperationException($"Image.ToClassIds: expected an indexed or grey (1-channel) mask image, got {Channels} channels");
        var ids = new long[Data.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = Data[i];
        return LongTensor.FromArray(ids, Height, Width);
    }

    /// <summary>
    /// An indexed image from a mask [H, W] of class ids 0 to 255, coloured with <paramref name="palette"/>
    /// (default <see cref="VocPalette"/>, so that 255, the ignore label, shows as (224, 224, 192)).
    /// </summary>
    public static Image FromClassIds(LongTensor mask, byte[]? palette = null)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Dim != 2)
            throw new ArgumentException($"Image.FromClassIds: expected a mask [H, W], got {ShapeUtil.Format(mask.Shape.ToArray())}", nameof(mask));
        var ids = mask.Span;
        var data = new byte[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            if ((ulong)ids[i] > 255)
                throw new ArgumentException($"Image.FromClassIds: class ids must be 0 to 255, got {ids[i]} at y {i / mask.Shape[1]}, x {i % mask.Shape[1]}", nameof(mask));
            data[i] = (byte)ids[i];
        }
        return new Image(mask.Shape[1], mask.Shape[0], 1, data, (byte[])(palette ?? VocPalette()).Clone());
    }

    /// <summary>
    /// The PASCAL VOC colour map for 256 classes: class i's bits 0, 1, 2 go to the top bits of R, G, B,
    /// bits 3, 4, 5 to the next, and so on (1 is (128, 0, 0), 255 is (224, 224, 192)).
    /// </summary>
    public static byte[] VocPalette()
    {
        var palette = new byte[768];
        for (int i = 0; i < 256; i++)
        {
            int id = i;
            for (int bit = 7; bit >= 0; bit--, id >>= 3)
                for (int k = 0; k < 3; k++) palette[3 * i + k] |= (byte)(((id >> k) & 1) << bit);
        }
        return palette;
    }
}

/// <summary>Bounds on decoded images, checked on the header before anything is allocated.</summary>
internal static class ImageLimits
{
    public const int MaxDimension = 65535;
    public const long MaxBytes = 1L << 28;

    public static void Check(string source, string format, long width, long height, int channels)
    {
        if (width < 1 || height < 1 || width > MaxDimension || height > MaxDimension)
            throw new ImageFormatException($"{source}: {format} header claims {width}x{height} pixels; expected width and height 1 to {MaxDimension}");
        long bytes = width * height * channels;
        if (bytes > MaxBytes)
            throw new ImageFormatException($"{source}: {format} header claims {width}x{height}x{channels} = {bytes} bytes of pixels; at most {MaxBytes} are allowed");
    }
}
