namespace ConvKit.Kernels.Cpu;

/// <summary>
/// A source of the GEMM's B operand [k, n]: packs the kc×nc block at (k0, j0) into ceil(nc/NR) slivers, each kc×NR
/// (k-major, NR floats per k), zero-padding the last sliver's columns. Generic struct implementations let the
/// packed GEMM run on matrices that are never materialised (an image read as its im2col matrix).
/// </summary>
internal unsafe interface IPanelB
{
    /// <param name="k0">First row of the block.</param>
    /// <param name="kc">Rows in the block.</param>
    /// <param name="j0">First column of the block.</param>
    /// <param name="nc">Columns in the block.</param>
    /// <param name="dst">Destination, room for ceil(nc/NR)·kc·NR floats.</param>
    /// <param name="simd">True when the AVX2 paths may run (false under <see cref="Gemm.ForceScalar"/> or without AVX2).</param>
    void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd);

    /// <summary>True, with its first element and row stride, when B is a plain row-major matrix the micro-kernel can read in place.</summary>
    bool RowMajor(out float* b, out int ldb);

    /// <summary>
    /// True, with its base, when every row of B is contiguous but the rows lie at arbitrary offsets (B[k, j] =
    /// b[<see cref="RowOffsets"/>(k) + j]): the AVX-512 path then reads whole 32-column pairs in place through a per-k
    /// offset table instead of packing them.
    /// </summary>
    bool RowsInPlace(out float* b);

    /// <summary>dst[q] = the offset of row k0 + q (q &lt; kc) where <see cref="RowsInPlace"/> holds.</summary>
    void RowOffsets(int k0, int kc, int* dst);
}

/// <summary>A dense row-major B [k, n] with row stride ldb, or Bᵀ stored [n, k] when <see cref="Trans"/>.</summary>
internal readonly unsafe struct DenseB(float* b, int ldb, bool trans) : IPanelB
{
    public bool Trans => trans;

    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd) =>
        Gemm.PackB(trans, trans ? b + (long)j0 * ldb + k0 : b + (long)k0 * ldb + j0, ldb, kc, nc, dst, simd);

    public bool RowMajor(out float* b0, out int ld)
    {
        b0 = trans ? null : b;
        ld = trans ? 0 : ldb;
        return !trans;
    }

    /// <summary>A row-major B is read in place by its stride (<see cref="RowMajor"/>) instead.</summary>
    public bool RowsInPlace(out float* b0) { b0 = null; return false; }

    public void RowOffsets(int k0, int kc, int* dst) => throw new NotSupportedException();
}
