namespace ConvKit.Tests.Golden;

/// <summary>The shared input PRNG of FORMAT.md (splitmix64, 24-bit uniform, one float32 rounding).</summary>
public static class GoldenPrng
{
    public static float[] Generate(int[] shape, ulong seed, double lo = -1, double hi = 1)
        => Generate(shape.Aggregate(1L, (a, b) => a * b), seed, lo, hi);

    public static float[] Generate(long count, ulong seed, double lo = -1, double hi = 1)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        var x = new float[count];
        ulong state = seed;
        for (long i = 0; i < count; i++)
        {
            unchecked
            {
                state += 0x9E3779B97F4A7C15UL;
                ulong z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                double u = (z >> 40) / 16777216.0;
                // computed in double, rounded to float32 once
                x[i] = (float)(lo + (hi - lo) * u);
            }
        }
        return x;
    }
}

