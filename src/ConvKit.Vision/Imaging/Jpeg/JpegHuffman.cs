namespace ConvKit.Vision.Imaging.Jpeg;

/// <summary>
/// A Huffman table of a DHT segment: canonical codes built from the 16 code-length counts (JPEG
/// Annex C), decoded with a 9-bit lookup for the common short codes and the MAXCODE search of
/// Annex F for longer ones. Construction rejects count lists that over-subscribe the code space.
/// </summary>
internal sealed class JpegHuffman
{
    private const int LookupBits = 9;

    private readonly byte[] _symbols;
    private readonly int[] _maxCode = new int[18];
    private readonly int[] _valueOffset = new int[18];
    private readonly ushort[] _lookup = new ushort[1 << LookupBits];

    public JpegHuffman(ReadOnlySpan<byte> counts, byte[] symbols, string what, string source)
    {
        _symbols = symbols;
        int code = 0, k = 0;
        for (int length = 1; length <= 16; length++)
        {
            _valueOffset[length] = k - code;
            for (int i = 0; i < counts[length - 1]; i++, k++, code++)
            {
                // libjpeg's rule: the all-ones code of a length is reserved, so reaching it means corrupt counts
                if (code >= (1 << length) - 1)
                    throw new ImageFormatException($"{source}: JPEG {what}: the code-length counts over-subscribe the {length}-bit codes");
                if (length <= LookupBits)
                {
                    int shift = LookupBits - length;
                    for (int fill = 0; fill < 1 << shift; fill++)
                        _lookup[(code << shift) | fill] = (ushort)((length << 8) | symbols[k]);
                }
            }
            _maxCode[length] = counts[length - 1] > 0 ? code - 1 : -1;
            code <<= 1;
        }
        _maxCode[17] = int.MaxValue;
    }

    /// <summary>Decodes one symbol; an impossible code is a format error, never a guess.</summary>
    public int Decode(JpegBitReader reader)
    {
        int entry = _lookup[reader.Peek(LookupBits)];
        if (entry != 0)
        {
            reader.Skip(entry >> 8);
            return entry & 0xFF;
        }
        int bits = reader.Peek(16);
        for (int length = LookupBits + 1; length <= 16; length++)
        {
            int code = bits >> (16 - length);
            if (code <= _maxCode[length])
            {
                reader.Skip(length);
                return _symbols[code + _valueOffset[length]];
            }
        }
        throw new ImageFormatException($"{reader.SourceName}: JPEG entropy data holds an invalid Huffman code near byte {reader.Position}");
    }
}
