namespace ConvKit.Vision.Imaging;

/// <summary>
/// An image file is malformed: bad signature, impossible header, CRC mismatch, truncated or corrupt data.
/// The message names the file when known, what was expected and what came.
/// </summary>
public sealed class ImageFormatException : Exception
{
    public ImageFormatException(string message) : base(message) { }
    public ImageFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// An image file is well formed but uses a feature these codecs do not implement (progressive or
/// arithmetic-coded JPEG, 12-bit samples, CMYK, lossless, hierarchical). The message names the feature.
/// </summary>
public sealed class UnsupportedImageException : Exception
{
    public UnsupportedImageException(string message) : base(message) { }
}
