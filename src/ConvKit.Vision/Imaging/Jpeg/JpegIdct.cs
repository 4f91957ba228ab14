namespace ConvKit.Vision.Imaging.Jpeg;

/// <summary>
/// The 8x8 inverse DCT with libjpeg's "islow" integer algorithm (jidctint.c, JDCT_ISLOW, the default
/// of libjpeg and libjpeg-turbo and so of PIL): the Loeffler-Ligtenberg-Moschytz factorisation with
/// 12 multiplies, constants scaled by 2^13, a first pass over columns keeping 2 extra fraction bits,
/// a second pass over rows that removes all scaling (including the DCT's factor 8) with rounding, then
/// +128 and a clamp to 0-255. Written from the algorithm's description; the rounding points are
/// libjpeg's, so outputs are bit-identical to it.
/// </summary>
internal static class JpegIdct
{
    private const int ConstBits = 13, Pass1Bits = 2;

    // round(x * 2^13) for the rotation constants of the LLM flow graph
    private const int F0_298631336 = 2446, F0_390180644 = 3196, F0_541196100 = 4433, F0_765366865 = 6270,
        F0_899976223 = 7373, F1_175875602 = 9633, F1_501321110 = 12299, F1_847759065 = 15137,
        F1_961570560 = 16069, F2_053119869 = 16819, F2_562915447 = 20995, F3_072711026 = 25172;

    /// <summary>
    /// Transforms dequantised coefficients (natural order) into 8x8 samples written at
    /// <paramref name="output"/>[offset + y * stride + x].
    /// </summary>
    public static void Transform(Span<int> coefficients, Span<int> workspace, byte[] output, int offset, int stride)
    {
        for (int col = 0; col < 8; col++)
            Butterfly(coefficients, col, 8, workspace, col, 8, ConstBits - Pass1Bits);
        Span<int> row = stackalloc int[8];
        for (int r = 0; r < 8; r++)
        {
            Butterfly(workspace, r * 8, 1, row, 0, 1, ConstBits + Pass1Bits + 3);
            int at = offset + r * stride;
            for (int x = 0; x < 8; x++) output[at + x] = RangeLimit(row[x]);
        }
    }

    /// <summary>
    /// libjpeg indexes its clamp table with the value masked to 10 bits, so out-of-range values of a
    /// corrupt stream wrap before clamping; emulated here so even garbage matches.
    /// </summary>
    private static byte RangeLimit(int value)
    {
        int wrapped = ((value + 512) & 1023) - 512;
        return (byte)Math.Clamp(wrapped + 128, 0, 255);
    }

    private static int Descale(int x, int n) => (x + (1 << (n - 1))) >> n;

    /// <summary>One 8-point 1-D IDCT from <paramref name="input"/>[inAt + k * inStep] to output, descaled by 2^shift.</summary>
    private static void Butterfly(ReadOnlySpan<int> input, int inAt, int inStep, Span<int> output, int outAt, int outStep, int shift)
    {
        unchecked
        {
            int z2 = input[inAt + 2 * inStep], z3 = input[inAt + 6 * inStep];
            int z1 = (z2 + z3) * F0_541196100;
            int tmp2 = z1 + z3 * -F1_847759065;
            int tmp3 = z1 + z2 * F0_765366865;
            z2 = input[inAt];
            z3 = input[inAt + 4 * inStep];
            int tmp0 = (z2 + z3) << ConstBits;
            int tmp1 = (z2 - z3) << ConstBits;
            int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = input[inAt + 7 * inStep];
            tmp1 = input[inAt + 5 * inStep];
            tmp2 = input[inAt + 3 * inStep];
            tmp3 = input[inAt + inStep];
            z1 = tmp0 + tmp3;
            z2 = tmp1 + tmp2;
            z3 = tmp0 + tmp2;
            int z4 = tmp1 + tmp3;
            int z5 = (z3 + z4) * F1_175875602;
            tmp0 *= F0_298631336;
            tmp1 *= F2_053119869;
            tmp2 *= F3_072711026;
            tmp3 *= F1_501321110;
            z1 *= -F0_899976223;
            z2 *= -F2_562915447;
            z3 = z3 * -F1_961570560 + z5;
            z4 = z4 * -F0_390180644 + z5;
            tmp0 += z1 + z3;
            tmp1 += z2 + z4;
            tmp2 += z2 + z3;
            tmp3 += z1 + z4;

            output[outAt] = Descale(tmp10 + tmp3, shift);
            output[outAt + 7 * outStep] = Descale(tmp10 - tmp3, shift);
            output[outAt + outStep] = Descale(tmp11 + tmp2, shift);
            output[outAt + 6 * outStep] = Descale(tmp11 - tmp2, shift);
            output[outAt + 2 * outStep] = Descale(tmp12 + tmp1, shift);
            output[outAt + 5 * outStep] = Descale(tmp12 - tmp1, shift);
            output[outAt + 3 * outStep] = Descale(tmp13 + tmp0, shift);
            output[outAt + 4 * outStep] = Descale(tmp13 - tmp0, shift);
        }
    }
}
