namespace ConvKit.Vision.Imaging.Jpeg;

/// <summary>
/// Reads the entropy-coded bits of a scan: removes the 00 stuffed after every FF data byte and stops
/// at the first marker. Past a marker (or the end of the file) it feeds zero bits, as libjpeg does, but
/// counts them, so that a decoder which actually consumed them can report truncated data instead of
/// decoding garbage; the count also bounds the work done on a corrupt stream.
/// </summary>
internal sealed class JpegBitReader(byte[] file, int position, string source)
{
    private ulong _buffer;
    private int _bits;
    private int _fakeBits;

    /// <summary>The file offset of the first byte not yet taken into the bit buffer (a marker once one was reached).</summary>
    public int Position => position;

    public string SourceName => source;

    /// <summary>True when the decoder has used bits that were not in the file.</summary>
    public bool Overrun => _bits < _fakeBits;

    private void Fill()
    {
        while (_bits <= 56)
        {
            int b = 0;
            if (_fakeBits == 0 && position < file.Length)
            {
                b = file[position];
                if (b != 0xFF) position++;
                else if (position + 1 < file.Length && file[position + 1] == 0) position += 2;
                else b = -1;
            }
            else
            {
                b = -1;
            }
            if (b < 0)
            {
                b = 0;
                _fakeBits += 8;
            }
            _buffer = (_buffer << 8) | (uint)b;
            _bits += 8;
        }
    }

    public int Peek(int count)
    {
        if (_bits < count) Fill();
        return (int)(_buffer >> (_bits - count)) & ((1 << count) - 1);
    }

    public void Skip(int count) => _bits -= count;

    public int ReadBits(int count)
    {
        if (count == 0) return 0;
        int value = Peek(count);
        _bits -= count;
        return value;
    }

    /// <summary>Reads an <paramref name="size"/>-bit magnitude and sign-extends it (the JPEG EXTEND procedure).</summary>
    public int ReadSigned(int size)
    {
        if (size == 0) return 0;
        int value = ReadBits(size);
        return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
    }

    /// <summary>
    /// Drops the rest of the current byte and reads the restart marker that must follow: RSTn with n the
    /// restart count modulo 8. Then decoding starts afresh from the next byte.
    /// </summary>
    public void Restart(int expected)
    {
        _bits = 0;
        _fakeBits = 0;
        _buffer = 0;
        int at = position;
        while (at < file.Length && file[at] != 0xFF) at++;
        while (at + 1 < file.Length && file[at + 1] == 0xFF) at++;
        if (at + 1 >= file.Length)
            throw new ImageFormatException($"{source}: JPEG data ends where restart marker RST{expected} was expected");
        int marker = file[at + 1];
        if (marker != 0xD0 + expected)
            throw new ImageFormatException($"{source}: JPEG expected restart marker RST{expected} (FF {0xD0 + expected:X2}) at byte {at}, got FF {marker:X2}");
        position = at + 2;
    }
}
