using System.Buffers.Binary;

namespace ConvKit.Vision.Imaging.Jpeg;

/// <summary>
/// Decodes baseline and extended sequential Huffman JPEG (SOF0, SOF1) with 8-bit samples, grey or
/// three components (YCbCr, or RGB per Adobe APP14 / component ids as libjpeg guesses), any integral
/// sampling factors, restart intervals and several scans. The arithmetic follows libjpeg-turbo with its
/// defaults, which PIL uses: islow IDCT (<see cref="JpegIdct"/>), fancy upsampling and fixed-point
/// YCbCr->RGB (<see cref="JpegColor"/>), so pixels match PIL's exactly. Progressive, arithmetic-coded,
/// lossless, hierarchical, 12-bit and CMYK files raise <see cref="UnsupportedImageException"/>.
/// </summary>
internal static class JpegDecoder
{
    public static bool HasSignature(ReadOnlySpan<byte> file) => file.Length >= 3 && file[0] == 0xFF && file[1] == 0xD8 && file[2] == 0xFF;

    public static Image Decode(byte[] file, string source) => new Parser(file, source).Run();

    private sealed class Parser(byte[] file, string source)
    {
        private readonly int[]?[] _quant = new int[4][];
        private readonly JpegHuffman?[] _dc = new JpegHuffman[4], _ac = new JpegHuffman[4];
        private JpegFrame? _frame;
        private int _restartInterval, _position = 2;
        private bool _jfif;
        private int _adobeTransform = -1;

        public Image Run()
        {
            while (true)
            {
                int marker = NextMarker();
                if (marker < 0 || marker == 0xD9) break;
                if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue;
                if (marker == 0xDA)
                {
                    StartOfScan();
                    continue;
                }
                var segment = Segment(marker);
                switch (marker)
                {
                    case 0xC0 or 0xC1: StartOfFrame(segment); break;
                    case 0xC4: DefineHuffman(segment); break;
                    case 0xDB: DefineQuantisation(segment); break;
                    case 0xDD:
                        if (segment.Length != 2) throw Error($"DRI segment must hold 2 bytes, got {segment.Length}");
                        _restartInterval = BinaryPrimitives.ReadUInt16BigEndian(segment);
                        break;
                    case 0xE0: _jfif |= segment.StartsWith("JFIF\0"u8) && segment.Length >= 14; break;
                    case 0xEE:
                        if (segment.StartsWith("Adobe"u8) && segment.Length >= 12) _adobeTransform = segment[11];
                        break;
                    case 0xDC: throw new UnsupportedImageException($"{source}: JPEG DNL marker (image height defined after the first scan) is not supported");
                    case >= 0xC2 and <= 0xCF and not 0xC4 and not 0xCC: throw Unsupported(marker);
                    case 0xCC: throw new UnsupportedImageException($"{source}: JPEG arithmetic coding (DAC segment) is not supported");
                    case 0xD8: throw Error("a second SOI marker inside the image");
                    default:
                        if (marker is not (>= 0xE0 and <= 0xEF or 0xFE or >= 0xF0 and <= 0xFD))
                            throw Error($"unknown marker FF {marker:X2}");
                        break;
                }
            }
            if (_frame is null) throw Error("no frame (SOF0/SOF1) before the end of the data");
            var missing = _frame.Components.FirstOrDefault(c => !c.Decoded);
            if (missing is not null)
                throw Error($"the data ends before any scan of component {missing.Id} (truncated file?)");
            return JpegColor.ToImage(_frame, ColourIsYCbCr(_frame));
        }

        /// <summary>libjpeg's guess of the colour space of a 3-component file (jdapimin.c default_decompress_parms).</summary>
        private bool ColourIsYCbCr(JpegFrame frame)
        {
            if (frame.Components.Length != 3 || _jfif) return true;
            if (_adobeTransform >= 0) return _adobeTransform != 0;
            var ids = frame.Components.Select(c => c.Id).ToArray();
            return !(ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B');
        }

        private ImageFormatException Error(string what) => new($"{source}: JPEG {what}");

        private UnsupportedImageException Unsupported(int marker) => new($"{source}: JPEG {marker switch
        {
            0xC2 => "progressive DCT (SOF2)",
            0xC3 => "lossless (SOF3)",
            0xC5 or 0xC6 or 0xC7 => $"hierarchical / differential coding (SOF{marker - 0xC0})",
            0xC8 => "extension (JPG marker FF C8)",
            _ => $"arithmetic coding (SOF{marker - 0xC0})",
        }} is not supported; only baseline and extended sequential Huffman (SOF0, SOF1) are");

        /// <summary>The next marker code, skipping fill bytes and any stray bytes before it (as libjpeg does), or -1 at the end of the file.</summary>
        private int NextMarker()
        {
            while (_position + 1 < file.Length)
            {
                if (file[_position] == 0xFF && file[_position + 1] is not (0x00 or 0xFF))
                {
                    _position += 2;
                    return file[_position - 1];
                }
                _position++;
            }
            _position = file.Length;
            return -1;
        }

        private ReadOnlySpan<byte> Segment(int marker)
        {
            if (_position + 2 > file.Length) throw Error($"marker FF {marker:X2} at the end of the file has no segment length");
            int length = BinaryPrimitives.ReadUInt16BigEndian(file.AsSpan(_position));
            if (length < 2 || length > file.Length - _position)
                throw Error($"segment FF {marker:X2} at byte {_position - 2} claims {length} bytes; expected 2 to {file.Length - _position} (truncated file?)");
            var segment = file.AsSpan(_position + 2, length - 2);
            _position += length;
            return segment;
        }

        private void StartOfFrame(ReadOnlySpan<byte> s)
        {
            if (_frame is not null) throw Error("has a second frame header (SOF)");
            if (s.Length < 6) throw Error($"SOF segment must hold at least 6 bytes, got {s.Length}");
            int precision = s[0], height = BinaryPrimitives.ReadUInt16BigEndian(s[1..]), width = BinaryPrimitives.ReadUInt16BigEndian(s[3..]), count = s[5];
            if (precision == 12) throw new UnsupportedImageException($"{source}: JPEG with 12-bit samples is not supported");
            if (precision != 8) throw Error($"sample precision {precision} is invalid; expected 8");
            if (height == 0) throw new UnsupportedImageException($"{source}: JPEG with the height deferred to a DNL marker is not supported");
            if (count == 4) throw new UnsupportedImageException($"{source}: JPEG with 4 components (CMYK / YCCK) is not supported");
            if (count is not (1 or 3)) throw new UnsupportedImageException($"{source}: JPEG with {count} components is not supported; expected 1 (grey) or 3 (colour)");
            if (s.Length != 6 + 3 * count) throw Error($"SOF segment for {count} components must hold {6 + 3 * count} bytes, got {s.Length}");
            ImageLimits.Check(source, "JPEG SOF", width, height, count);
            var components = new JpegComponent[count];
            for (int i = 0; i < count; i++)
            {
                int id = s[6 + 3 * i], h = s[7 + 3 * i] >> 4, v = s[7 + 3 * i] & 15, table = s[8 + 3 * i];
                if (h is < 1 or > 4 || v is < 1 or > 4) throw Error($"component {id} has sampling factors {h}x{v}; expected 1 to 4 each");
                if (table > 3) throw Error($"component {id} uses quantisation table {table}; expected 0 to 3");
                if (components.Take(i).Any(o => o.Id == id)) throw Error($"component id {id} appears twice in the frame header");
                components[i] = new JpegComponent { Id = id, H = h, V = v, QuantTable = table };
            }
            var frame = new JpegFrame { Width = width, Height = height, Components = components };
            foreach (var c in components)
                if (frame.HMax % c.H != 0 || frame.VMax % c.V != 0)
                    throw new UnsupportedImageException($"{source}: JPEG sampling factors {string.Join(", ", components.Select(o => $"{o.H}x{o.V}"))} are not integral ratios of each other; not supported");
            frame.Allocate(file.Length - _position, source);
            _frame = frame;
        }

        private void DefineQuantisation(ReadOnlySpan<byte> s)
        {
            while (s.Length > 0)
            {
                int precision = s[0] >> 4, id = s[0] & 15, size = precision == 0 ? 64 : 128;
                if (precision > 1 || id > 3) throw Error($"DQT table {id} with precision {precision}; expected table 0 to 3, precision 0 (8-bit) or 1 (16-bit)");
                if (s.Length < 1 + size) throw Error($"DQT table {id} needs {size} bytes, got {s.Length - 1}");
                var table = new int[64];
                for (int k = 0; k < 64; k++) table[k] = precision == 0 ? s[1 + k] : BinaryPrimitives.ReadUInt16BigEndian(s[(1 + 2 * k)..]);
                _quant[id] = table;
                s = s[(1 + size)..];
            }
        }

        private void DefineHuffman(ReadOnlySpan<byte> s)
        {
            while (s.Length > 0)
            {
                if (s.Length < 17) throw Error($"DHT table needs 17 header bytes, got {s.Length}");
                int cls = s[0] >> 4, id = s[0] & 15;
                if (cls > 1 || id > 3) throw Error($"DHT class {cls} table {id}; expected class 0 (DC) or 1 (AC), table 0 to 3");
                var counts = s.Slice(1, 16);
                int total = 0;
                foreach (byte n in counts) total += n;
                if (total > 256 || s.Length < 17 + total) throw Error($"DHT table {id} declares {total} symbols; expected at most 256 and within the {s.Length - 17} bytes left");
                var symbols = s.Slice(17, total).ToArray();
                string what = $"{(cls == 0 ? "DC" : "AC")} Huffman table {id}";
                if (cls == 0 && symbols.Any(v => v > 15)) throw Error($"{what} has a DC size above 15");
                var table = new JpegHuffman(counts, symbols, what, source);
                (cls == 0 ? _dc : _ac)[id] = table;
                s = s[(17 + total)..];
            }
        }

        private void StartOfScan()
        {
            var s = Segment(0xDA);
            if (_frame is null) throw Error("scan (SOS) before the frame header (SOF)");
            int count = s.Length > 0 ? s[0] : 0;
            if (count is < 1 or > 4 || s.Length != 4 + 2 * count)
                throw Error($"SOS segment must hold 1 to 4 components in 4 + 2 * count bytes, got {count} components in {s.Length} bytes");
            var components = new JpegComponent[count];
            int blocks = 0;
            for (int i = 0; i < count; i++)
            {
                int id = s[1 + 2 * i], dc = s[2 + 2 * i] >> 4, ac = s[2 + 2 * i] & 15;
                var c = _frame.Components.FirstOrDefault(o => o.Id == id) ?? throw Error($"scan refers to component {id}, which is not in the frame");
                if (components.Take(i).Contains(c)) throw Error($"scan lists component {id} twice");
                if (dc > 3 || ac > 3) throw Error($"scan component {id} selects Huffman tables DC {dc} / AC {ac}; expected 0 to 3");
                c.Dc = _dc[dc] ?? throw Error($"scan component {id} uses DC Huffman table {dc}, which is not defined");
                c.Ac = _ac[ac] ?? throw Error($"scan component {id} uses AC Huffman table {ac}, which is not defined");
                c.Quant ??= (int[]?)_quant[c.QuantTable]?.Clone() ?? throw Error($"component {id} uses quantisation table {c.QuantTable}, which is not defined");
                components[i] = c;
                blocks += c.H * c.V;
            }
            if (count > 1 && blocks > 10) throw Error($"interleaved scan has {blocks} blocks per MCU; at most 10 are allowed");
            int ss = s[^3], se = s[^2], approximation = s[^1];
            if (ss != 0 || se != 63 || approximation != 0)
                throw Error($"sequential scan must have spectral selection 0-63 and no successive approximation, got {ss}-{se}, Ah/Al 0x{approximation:X2}");
            _position = JpegScan.Decode(file, _position, _frame, components, _restartInterval, source);
        }
    }
}
