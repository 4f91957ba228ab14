using System.Buffers.Binary;

namespace ConvKit.Vision.Imaging.Png;

/// <summary>
/// Turns one unfiltered row of packed samples into 8-bit samples the way PIL's PNG reader followed by
/// <c>convert</c> does:
/// <list type="bullet">
/// <item>grey at 1, 2, 4 bits is scaled to 0-255 (value * 255 / (2^depth - 1));</item>
/// <item>palette indices at 1, 2, 4 bits are kept as indices;</item>
/// <item>16-bit grey+alpha, RGB and RGBA keep the high byte of each sample (PIL's "LA;16B", "RGB;16B",
/// "RGBA;16B" raw modes);</item>
/// <item>16-bit grey is clamped to 255: PIL opens it as 32-bit mode "I" and <c>convert("L")</c> clips, so
/// any value of 256 or more becomes 255. This matches PIL (and so torchvision pipelines) but loses the
/// range of most 16-bit grey images; it is PIL's behaviour, kept on purpose.</item>
/// </list>
/// </summary>
internal static class PngSamples
{
    public static void Expand(PngHeader header, ReadOnlySpan<byte> row, Span<byte> output)
    {
        int depth = header.BitDepth;
        if (depth == 8)
        {
            row[..output.Length].CopyTo(output);
        }
        else if (depth == 16)
        {
            bool clampGrey = header.ColorType == PngHeader.Grey;
            for (int i = 0; i < output.Length; i++)
                output[i] = clampGrey ? (byte)Math.Min(255, (int)BinaryPrimitives.ReadUInt16BigEndian(row[(2 * i)..])) : row[2 * i];
        }
        else
        {
            int perByte = 8 / depth, mask = (1 << depth) - 1;
            int scale = header.ColorType == PngHeader.Indexed ? 1 : 255 / mask;
            for (int i = 0; i < output.Length; i++)
            {
                int shift = 8 - depth * (i % perByte + 1);
                output[i] = (byte)(((row[i / perByte] >> shift) & mask) * scale);
            }
        }
    }
}
