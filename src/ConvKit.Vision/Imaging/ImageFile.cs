using ConvKit.Serialization;
using ConvKit.Vision.Imaging.Jpeg;
using ConvKit.Vision.Imaging.Png;

namespace ConvKit.Vision.Imaging;

/// <summary>
/// Reads PNG and baseline JPEG files and writes PNG, in managed code. The format is recognised by the
/// file's signature, never by its name. Files are untrusted: every defect raises
/// <see cref="ImageFormatException"/> naming the file, and features outside the codecs raise
/// <see cref="UnsupportedImageException"/>. Pixels equal what PIL's <c>Image.open(path).convert(mode)</c>
/// gives, byte for byte:
/// <list type="bullet">
/// <item>PNG: every colour type and bit depth, Adam7, PLTE/tRNS. Grey below 8 bits is scaled to 0-255;
/// 16-bit grey+alpha, RGB and RGBA keep the high byte of each sample; 16-bit grey is clamped to 255
/// (PIL opens it as mode "I" and <c>convert("L")</c> clips), which saturates most 16-bit grey images but
/// is what a PIL/torchvision pipeline sees. tRNS of grey and RGB images is parsed and not applied.</item>
/// <item>JPEG: baseline and extended sequential Huffman, grey or YCbCr/RGB, any integral chroma sampling,
/// restart intervals, several scans; libjpeg-turbo's islow IDCT, fancy upsampling and YCbCr tables are
/// reproduced, so the result is identical to PIL's. Where libjpeg would warn and fill corrupt entropy data
/// with zeros, this decoder throws <see cref="ImageFormatException"/>.</item>
/// </list>
/// </summary>
public static class ImageFile
{
    /// <summary>Files larger than this are refused before being read (1 GiB).</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>
    /// Reads a PNG or JPEG file as grey, grey+alpha, RGB or RGBA; PNG palette images are expanded to RGB
    /// (RGBA when they carry tRNS), like PIL's <c>convert("RGB")</c> / <c>convert("RGBA")</c>.
    /// </summary>
    public static Image Read(string path) => Decode(ReadFile(path), path, keepIndices: false);

    /// <summary>Reads a PNG or JPEG image from <paramref name="stream"/> (to its end); <paramref name="source"/> names it in messages.</summary>
    public static Image Read(Stream stream, string source = "image stream") => Decode(ReadStream(stream, source), source, keepIndices: false);

    /// <summary>
    /// Reads a segmentation mask: a palette PNG keeps its indices and palette (PIL mode "P"), a grey
    /// image stays grey; use <see cref="Image.ToClassIds"/> for the [H, W] class-id tensor. Colour images
    /// are refused with <see cref="ImageFormatException"/>, since they hold no class ids.
    /// </summary>
    public static Image ReadIndexed(string path) => RequireIndexed(Decode(ReadFile(path), path, keepIndices: true), path);

    /// <summary>Reads a segmentation mask from a stream; see <see cref="ReadIndexed(string)"/>.</summary>
    public static Image ReadIndexed(Stream stream, string source = "image stream")
        => RequireIndexed(Decode(ReadStream(stream, source), source, keepIndices: true), source);

    /// <summary>Writes <paramref name="image"/> as an 8-bit PNG, atomically (see <see cref="AtomicFile"/>).</summary>
    public static void WritePng(string path, Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        AtomicFile.Write(path, stream => PngEncoder.Encode(image, stream));
    }

    /// <summary>Writes <paramref name="image"/> as an 8-bit PNG to <paramref name="stream"/>.</summary>
    public static void WritePng(Stream stream, Image image)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(image);
        PngEncoder.Encode(image, stream);
    }

    private static Image RequireIndexed(Image image, string source) => image.Channels == 1 ? image
        : throw new ImageFormatException($"{source}: expected an indexed (palette) or grey mask image, got {image.Channels} channels");

    private static Image Decode(byte[] file, string source, bool keepIndices)
    {
        if (PngDecoder.HasSignature(file)) return PngDecoder.Decode(file, source, keepIndices);
        if (JpegDecoder.HasSignature(file)) return JpegDecoder.Decode(file, source);
        throw new ImageFormatException(
            $"{source}: unknown image format: expected a PNG (89 50 4E 47) or JPEG (FF D8 FF) signature, got {Convert.ToHexString(file.AsSpan(0, Math.Min(8, file.Length)))}{(file.Length == 0 ? "(empty file)" : "")}");
    }

    private static byte[] ReadFile(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return ReadStream(file, path);
    }

    private static byte[] ReadStream(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead) throw new ArgumentException($"ImageFile.Read: expected a readable stream for {source}", nameof(stream));
        if (stream.CanSeek && stream.Length - stream.Position > MaxFileBytes)
            throw new ImageFormatException($"{source}: the file holds {stream.Length - stream.Position} bytes; at most {MaxFileBytes} are read");
        var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while ((n = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + n > MaxFileBytes)
                throw new ImageFormatException($"{source}: the stream holds more than {MaxFileBytes} bytes, the most that is read");
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }
}
