using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>Packing of A and B panels into the micro-kernel layout (zero-padded to full MR/NR tiles).</summary>
internal static unsafe partial class Gemm
{
    // ---------------------------------------------------------------- packing

    /// Packs the mc×kc block of op(A) whose top-left element is at <paramref name="a"/> into
    /// ceil(mc/height) slivers, each kc×height (k-major), zero-padding the last sliver's rows.
    /// height is <see cref="MR"/> or <see cref="MR512"/>; simd allows the AVX transposes.
    private static void PackA(bool transA, float* a, int lda, int mc, int kc, float* dst, int height, bool simd)
    {
        for (int ir = 0; ir < mc; ir += height)
        {
            int mr = Math.Min(height, mc - ir);
            if (!transA)
            {
                // op(A)(i,p) = a[i*lda + p]: mr row streams, interleaved.
                float* r0 = a + (long)ir * lda;
                int p = 0;
                if (mr == MR512 && simd)
                {
                    // Eight k of sixteen rows at a time: two 8×8 register transposes.
                    for (; p + 8 <= kc; p += 8)
                    {
                        Transpose8x8(r0 + p, lda, dst + p * MR512, MR512);
                        Transpose8x8(r0 + 8L * lda + p, lda, dst + p * MR512 + 8, MR512);
                    }
                }
                else if (mr == MR && height == MR)
                {
                    float* r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
                    for (; p < kc; p++)
                    {
                        float* d = dst + p * MR;
                        d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p];
                        d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p];
                    }
                }
                for (; p < kc; p++)
                {
                    float* d = dst + p * height;
                    int i = 0;
                    for (; i < mr; i++) d[i] = r0[(long)i * lda + p];
                    for (; i < height; i++) d[i] = 0f;
                }
            }
            else
            {
                // op(A)(i,p) = a[p*lda + i]: mr contiguous floats per k.
                for (int p = 0; p < kc; p++)
                {
                    float* s = a + (long)p * lda + ir, d = dst + p * height;
                    if (mr == MR512 && simd)
                    {
                        Avx.Store(d, Avx.LoadVector256(s));
                        Avx.Store(d + 8, Avx.LoadVector256(s + 8));
                        continue;
                    }
                    int i = 0;
                    for (; i < mr; i++) d[i] = s[i];
                    for (; i < height; i++) d[i] = 0f;
                }
            }
            dst += kc * height;
        }
    }

    /// Packs the kc×nc block of op(B) whose top-left element is at <paramref name="b"/> into
    /// ceil(nc/NR) slivers, each kc×NR (k-major), zero-padding the last sliver's columns.
    internal static void PackB(bool transB, float* b, int ldb, int kc, int nc, float* dst, bool simd)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            if (!transB)
            {
                // op(B)(p,j) = b[p*ldb + j]: NR contiguous floats per k.
                float* s = b + jr;
                if (nr == NR)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        if (Vector256.IsHardwareAccelerated)
                        {
                            Vector256.Store(Vector256.Load(s), dst);
                            Vector256.Store(Vector256.Load(s + 8), dst + 8);
                        }
                        else
                        {
                            Vector128.Store(Vector128.Load(s), dst);
                            Vector128.Store(Vector128.Load(s + 4), dst + 4);
                            Vector128.Store(Vector128.Load(s + 8), dst + 8);
                            Vector128.Store(Vector128.Load(s + 12), dst + 12);
                        }
                        s += ldb; dst += NR;
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        int j = 0;
                        for (; j < nr; j++) dst[j] = s[j];
                        for (; j < NR; j++) dst[j] = 0f;
                        s += ldb; dst += NR;
                    }
                }
            }
            else if (simd && nr == NR)
            {
                // op(B)(p,j) = b[j*ldb + p]: 8×8 register transposes, 8 k at a time.
                float* s = b + (long)jr * ldb;
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                {
                    Transpose8x8(s + p, ldb, dst + p * NR, NR);
                    Transpose8x8(s + 8L * ldb + p, ldb, dst + p * NR + 8, NR);
                }
                for (; p < kc; p++)
                {
                    float* d = dst + p * NR;
                    float* q = s + p;
                    for (int j = 0; j < NR; j++) d[j] = q[(long)j * ldb];
                }
                dst += kc * NR;
            }
            else
            {
                // op(B)(p,j) = b[j*ldb + p]: NR row streams, scattered with stride NR
                // (the destination sliver, kc×NR×4 = 16 KiB, stays in L1).
                int j = 0;
                for (; j < nr; j++)
                {
                    float* s = b + (long)(jr + j) * ldb;
                    float* d = dst + j;
                    for (int p = 0; p < kc; p++) d[p * NR] = s[p];
                }
                for (; j < NR; j++)
                {
                    float* d = dst + j;
                    for (int p = 0; p < kc; p++) d[p * NR] = 0f;
                }
                dst += kc * NR;
            }
        }
    }

    /// dst[q*ldd + i] = src[i*lds + q] for an 8×8 block (AVX; callers check Avx.IsSupported).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* src, int lds, float* dst, int ldd)
    {
        long l = lds;
        StoreTransposed(Avx.LoadVector256(src), Avx.LoadVector256(src + l), Avx.LoadVector256(src + 2 * l), Avx.LoadVector256(src + 3 * l),
                        Avx.LoadVector256(src + 4 * l), Avx.LoadVector256(src + 5 * l), Avx.LoadVector256(src + 6 * l),
                        Avx.LoadVector256(src + 7 * l), dst, ldd);
    }

    /// dst[q*ldd + i] = r_i[q]: eight rows stored as eight columns (AVX; callers check Avx.IsSupported).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreTransposed(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
                                         Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
                                         float* dst, int ldd)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);

        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>One kc×NR sliver of nr columns from rows at b + rows[q] (<see cref="IPanelB.RowsInPlace"/>), zero-padded.</summary>
    internal static void PackRows(float* b, int* rows, int kc, int nr, float* dst)
    {
        for (int q = 0; q < kc; q++, dst += NR)
        {
            float* src = b + rows[q];
            if (nr == NR)
            {
                Vector256.Store(Vector256.Load(src), dst);
                Vector256.Store(Vector256.Load(src + 8), dst + 8);
                continue;
            }
            for (int j = 0; j < NR; j++) dst[j] = j < nr ? src[j] : 0f;
        }
    }
}
