namespace ConvKit.Kernels.Cpu;

// Temporary stand-in with the final signature; replaced by the packed GEMM.
internal static unsafe class Gemm
{
    internal static bool ForceScalar;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb,
                             float* c, int ldc, bool accumulate, int maxThreads)
    {
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float acc = 0;
            for (int p = 0; p < k; p++)
                acc += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc : acc;
        }
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                             float[] c, int cOffset, int ldc, bool accumulate, int maxThreads)
    {
        fixed (float* pa = a, pb = b, pc = c)
            Sgemm(transA, transB, m, n, k, pa + aOffset, lda, pb + bOffset, ldb, pc + cOffset, ldc, accumulate, maxThreads);
    }
}
