using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// A run of images [n][C, H, W] copied once into the layout the implicit GEMM reads best: zero-padded by the conv's
/// padding (and as far down and right as the last tap reaches), with each row split into its StrideW column phases,
/// S[i][c][ihp][φ][q] = x[i][c][ihp − padTop][q·s + φ − padLeft] (0 outside the image). Then the im2col element of
/// row r = (c, kh, kw) and column j = (i, oh, ow) sits at <see cref="RowOffset"/>(r) + <see cref="ColumnOffset"/>(j):
/// the address separates into a part of the row and a part of the column, and consecutive ow of one output row are
/// consecutive floats for every tap, stride 2 and dilation included. A sliver of 16 columns is then one plain load
/// per row of the panel where it stays in one output row, and one load and blend per output row it touches otherwise,
/// with no bounds checks, clipped loads or de-interleaving shuffles: those were a fifth of the 7×7/s2 stem
/// (<c>PackRow</c> 14 % of its samples against 60 % in the micro-kernel). The copy costs one pass over x, against
/// KH·KW·COut/(s²) multiply-adds per element. Where it pays is measured per direction
/// (<see cref="Im2ColGemmConv.StagedMinOutW"/>, <see cref="Im2ColGemmConv.StagesWeightGrad"/>): the forward's narrow rows
/// (OutW 7 or 14) stay on the direct panel, whose same-width slivers are two masked loads where staged ones are two or
/// three runs. <see cref="Margin"/> floats before and after make every 16-float load in bounds.
/// </summary>
internal readonly unsafe struct StagedImages
{
    /// <summary>Floats of slack on each side of the staged data: a load that starts up to 15 lanes early or ends up to 15 late stays in the buffer.</summary>
    public const int Margin = 16;

    public readonly float* S;
    public readonly int Hp, Wq, Phases, RowStride, ChannelStride, ImageStride;
    private readonly int _taps, _kw, _dh, _dw, _sh, _outW, _plane;

    private StagedImages(float* s, Conv2dParams p, int channels)
    {
        S = s;
        Phases = p.StrideW;
        Hp = (p.OutH - 1) * p.StrideH + (p.KH - 1) * p.DilationH + 1;
        int wp = (p.OutW - 1) * p.StrideW + (p.KW - 1) * p.DilationW + 1;
        Wq = (wp + Phases - 1) / Phases;
        RowStride = Phases * Wq;
        ChannelStride = Hp * RowStride;
        ImageStride = channels * ChannelStride;
        _taps = p.KH * p.KW; _kw = p.KW; _dh = p.DilationH; _dw = p.DilationW; _sh = p.StrideH; _outW = p.OutW; _plane = p.OutPlane;
    }

    /// <summary>Output columns per row: the im2col column j is in output column j mod OutW.</summary>
    public int OutW => _outW;

    /// <summary>Buffer length for <paramref name="images"/> images of <paramref name="channels"/> channels, margins included.</summary>
    public static long Floats(Conv2dParams p, int images, int channels) =>
        (long)images * channels * new StagedImages(null, p, channels).ChannelStride + 2 * Margin;

    /// <summary>Offset of im2col row r = (c·KH + kh)·KW + kw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int RowOffset(int r)
    {
        int c = r / _taps, t = r - c * _taps, kh = t / _kw, kw = t - kh * _kw, dw = kw * _dw;
        return c * ChannelStride + kh * _dh * RowStride + dw % Phases * Wq + dw / Phases;
    }

    /// <summary>Offset of im2col column j = (i·OutH + oh)·OutW + ow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ColumnOffset(int j)
    {
        int i = j / _plane, pos = j - i * _plane, oh = pos / _outW, ow = pos - oh * _outW;
        return i * ImageStride + oh * _sh * RowStride + ow;
    }

    /// <summary>
    /// Cuts columns j..j+lanes into runs that stay in one output row: run r covers lanes [starts[r], starts[r + 1]) and
    /// lane l of it is at S[bases[r] + l + row offset]. Returns the number of runs; starts[runs] = lanes.
    /// </summary>
    public int Runs(int j, int lanes, int* starts, int* bases)
    {
        int runs = 0;
        for (int lane = 0; lane < lanes; runs++)
        {
            starts[runs] = lane;
            bases[runs] = ColumnOffset(j + lane) - lane;
            lane += Math.Min(_outW - (j + lane) % _outW, lanes - lane);
        }
        starts[runs] = lanes;
        return runs;
    }

    /// <summary>masks[r] selects, of lanes firstLane..firstLane+7, those in run r (lanes past the last run are in none).</summary>
    public static void LaneMasks(int* starts, int runs, int firstLane, Vector256<float>* masks)
    {
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) + Vector256.Create(firstLane);
        for (int r = 0; r < runs; r++)
            masks[r] = (Vector256.GreaterThanOrEqual(lanes, Vector256.Create(starts[r])) & Vector256.LessThan(lanes, Vector256.Create(starts[r + 1]))).AsSingle();
    }

    /// <summary>Eight lanes at <paramref name="at"/> + offset, each from its run: one load and blend per run, 0 in lanes of no run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(float* at, int offset, int runs, int* bases, Vector256<float>* masks)
    {
        var v = Vector256<float>.Zero;
        for (int r = 0; r < runs; r++) v = Avx.BlendVariable(v, Avx.LoadVector256(at + bases[r] + offset), masks[r]);
        return v;
    }

    /// <summary>
    /// Copies <paramref name="images"/> images of <paramref name="channels"/> channels, x [i][c] at
    /// x + i·<paramref name="xImageStride"/> + c·H·W, into <paramref name="buffer"/> (<see cref="Floats"/> long).
    /// Channels run in parallel when there are enough of them and the caller is not itself inside a parallel loop.
    /// </summary>
    public static StagedImages Stage(float* x, long xImageStride, int images, int channels, Conv2dParams p, float* buffer, bool simd)
    {
        var s = new StagedImages(buffer + Margin, p, channels);
        new Span<float>(buffer, Margin).Clear();
        new Span<float>(buffer + Margin + (long)images * s.ImageStride, Margin).Clear();
        nint xs = (nint)x, ss = (nint)s.S;
        int planes = images * channels;
        void Plane(int q)
        {
            int i = q / channels, c = q - i * channels;
            s.StagePlane((float*)xs + i * xImageStride + (long)c * p.H * p.W, (float*)ss + (long)q * s.ChannelStride, p, simd);
        }
        // Parallel only when the copy is worth a wake-up (~25 µs): 2^16 floats.
        if (Parallelism.Threads > 1 && planes > 1 && (long)planes * s.ChannelStride >= 1 << 16) Parallelism.For(planes, Plane);
        else for (int q = 0; q < planes; q++) Plane(q);
        return s;
    }

    private void StagePlane(float* src, float* dst, Conv2dParams p, bool simd)
    {
        // Everything the rows do not cover is padding: one clear of the plane, then each row's phases copied in (a
        // small plane's rows are a few floats, where a clear per row and phase cost more than the copies).
        new Span<float>(dst, ChannelStride).Clear();
        int* iw0 = stackalloc int[Phases];
        int* at = stackalloc int[Phases];
        int* count = stackalloc int[Phases];
        for (int phase = 0; phase < Phases; phase++)
        {
            // Phase φ holds input columns iw ≡ φ − padLeft (mod s), the first of them at q0.
            int first = ((phase - p.PadLeft) % Phases + Phases) % Phases, q0 = (first + p.PadLeft - phase) / Phases;
            iw0[phase] = first;
            at[phase] = phase * Wq + q0;
            count[phase] = first < p.W ? Math.Clamp((p.W - first + Phases - 1) / Phases, 0, Math.Max(Wq - q0, 0)) : 0;
        }
        int ih0 = Math.Max(0, -p.PadTop), ih1 = Math.Min(p.H, Hp - p.PadTop);
        for (int ih = ih0; ih < ih1; ih++)
        {
            float* row = src + (long)ih * p.W, d = dst + (long)(ih + p.PadTop) * RowStride;
            for (int phase = 0; phase < Phases; phase++) CopyStrided(row + iw0[phase], Phases, count[phase], d + at[phase], simd);
        }
    }

    /// <summary>dst[t] = src[t·stride] for t &lt; count: vector copies with a masked tail at stride 1, 8 floats per de-interleave at stride 2.</summary>
    private static void CopyStrided(float* src, int stride, int count, float* dst, bool simd)
    {
        int t = 0;
        if (simd && stride == 1)
        {
            for (; t + 8 <= count; t += 8) Avx.Store(dst + t, Avx.LoadVector256(src + t));
            if (t == count) return;
            var tail = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count - t)).AsSingle();
            Avx.MaskStore(dst + t, tail, Avx.MaskLoad(src + t, tail));
            return;
        }
        // The pair of loads reads src[2t .. 2t + 15]: only while that ends at or before the last element taken, src[2(count − 1)].
        if (simd && stride == 2)
            for (; 2 * t + 15 <= 2 * (count - 1); t += 8)
                Avx.Store(dst + t, Shuffles.Deinterleave(Avx.LoadVector256(src + 2 * t), Avx.LoadVector256(src + 2 * t + 8)).Even);
        for (; t < count; t++) dst[t] = src[(long)t * stride];
    }
}

/// <summary>A <see cref="StagedImages"/> copy in a pinned <see cref="TensorPool"/> array, handed back on Dispose.</summary>
internal unsafe struct StagedCopy : IDisposable
{
    private float[]? _buffer;
    private GCHandle _pin;

    public StagedImages Images { get; private set; }

    /// <summary>Stages images (see <see cref="StagedImages.Stage"/>), or returns false when the copy would not fit in an array.</summary>
    public static bool TryStage(float* x, long xImageStride, int images, int channels, Conv2dParams p, out StagedCopy copy)
    {
        copy = default;
        long floats = StagedImages.Floats(p, images, channels);
        if (floats > Array.MaxLength) return false;
        copy._buffer = TensorPool.Rent<float>((int)floats, zero: false);
        copy._pin = GCHandle.Alloc(copy._buffer, GCHandleType.Pinned);
        copy.Images = StagedImages.Stage(x, xImageStride, images, channels, p, (float*)copy._pin.AddrOfPinnedObject(), Gemm.UsesFma);
        return true;
    }

    public void Dispose()
    {
        if (_buffer is null) return;
        _pin.Free();
        TensorPool.Return(_buffer);
        _buffer = null;
    }
}

/// <summary>
/// The im2col matrix col [CIn/g·KH·KW, n·OutH·OutW] of <see cref="StagedImages"/>, packed into GEMM slivers (see
/// there for why). Each 16-column sliver is cut into runs that stay within one output row; every run is one
/// contiguous span of the staged data for every row of the panel.
/// </summary>
internal readonly unsafe struct StagedIm2ColPanel(StagedImages s) : IPanelB
{
    /// <summary>Exists only as the images: always packed.</summary>
    public bool RowMajor(out float* b, out int ldb) { b = null; ldb = 0; return false; }

    public bool RowsInPlace(out float* b) { b = null; return false; }

    public void RowOffsets(int k0, int kc, int* dst) => throw new NotSupportedException();

    [SkipLocalsInit]
    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        int* rowOff = stackalloc int[kc];
        for (int q = 0; q < kc; q++) rowOff[q] = s.RowOffset(k0 + q);
        int* starts = stackalloc int[Gemm.NR + 1];
        int* bases = stackalloc int[Gemm.NR];
        var masks = stackalloc Vector256<float>[2 * Gemm.NR];
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
        {
            int nr = Math.Min(Gemm.NR, nc - jr), runs = s.Runs(j0 + jr, nr, starts, bases);
            if (!simd) PackScalar(rowOff, kc, starts, bases, runs, dst);
            else if (runs == 1 && nr == Gemm.NR) PackRun(s.S + bases[0], rowOff, kc, dst);
            else PackRuns(rowOff, kc, bases, runs, starts, masks, dst);
        }
    }

    /// <summary>Columns across output rows (or fewer than 16): per run, a load blended into its lanes; lanes past nr are 0.</summary>
    private void PackRuns(int* rowOff, int kc, int* bases, int runs, int* starts, Vector256<float>* masks, float* dst)
    {
        StagedImages.LaneMasks(starts, runs, 0, masks);
        StagedImages.LaneMasks(starts, runs, 8, masks + Gemm.NR);
        for (int q = 0; q < kc; q++, dst += Gemm.NR)
        {
            Avx.Store(dst, StagedImages.Load8(s.S, rowOff[q], runs, bases, masks));
            Avx.Store(dst + 8, StagedImages.Load8(s.S + 8, rowOff[q], runs, bases, masks + Gemm.NR));
        }
    }

    /// <summary>16 columns within one output row: two loads and two stores per row of the panel.</summary>
    private static void PackRun(float* src, int* rowOff, int kc, float* dst)
    {
        for (int q = 0; q < kc; q++, dst += Gemm.NR)
        {
            float* p = src + rowOff[q];
            Avx.Store(dst, Avx.LoadVector256(p));
            Avx.Store(dst + 8, Avx.LoadVector256(p + 8));
        }
    }

    private void PackScalar(int* rowOff, int kc, int* starts, int* bases, int runs, float* dst)
    {
        for (int q = 0; q < kc; q++, dst += Gemm.NR)
        {
            int lane = 0;
            for (int r = 0; r < runs; r++)
                for (; lane < starts[r + 1]; lane++) dst[lane] = s.S[bases[r] + lane + rowOff[q]];
            for (; lane < Gemm.NR; lane++) dst[lane] = 0f;
        }
    }
}

/// <summary>
/// The transpose of <see cref="StagedIm2ColPanel"/>: colᵀ [n·OutH·OutW, CIn/g·KH·KW] of <see cref="StagedImages"/>, the
/// B operand of the weight gradient dW_g = dY_g · colᵀ. Each sliver column is one tap of one channel; eight
/// consecutive positions (k) of it are a load per output-row run, and eight such columns one 8×8 register transpose.
/// </summary>
internal readonly unsafe struct StagedIm2ColTransposedPanel(StagedImages s) : IPanelB
{
    /// <summary>Exists only as the images: always packed.</summary>
    public bool RowMajor(out float* b, out int ldb) { b = null; ldb = 0; return false; }

    public bool RowsInPlace(out float* b) { b = null; return false; }

    public void RowOffsets(int k0, int kc, int* dst) => throw new NotSupportedException();

    [SkipLocalsInit]
    public void Pack(int k0, int kc, int j0, int nc, float* dst, bool simd)
    {
        int* tapOff = stackalloc int[Gemm.NR];
        int* starts = stackalloc int[9];
        int* bases = stackalloc int[8];
        var masks = stackalloc Vector256<float>[8];
        var v = stackalloc Vector256<float>[Gemm.NR];
        float* tail = stackalloc float[8 * Gemm.NR];
        for (int jr = 0; jr < nc; jr += Gemm.NR, dst += kc * Gemm.NR)
        {
            int nr = Math.Min(Gemm.NR, nc - jr);
            for (int jj = 0; jj < nr; jj++) tapOff[jj] = s.RowOffset(j0 + jr + jj);
            for (int q = 0; q < kc; q += 8)
            {
                int lanes = Math.Min(8, kc - q), runs = s.Runs(k0 + q, lanes, starts, bases);
                float* d = dst + q * Gemm.NR;
                if (!simd)
                {
                    for (int l = 0, r = 0; l < lanes; l++)
                    {
                        while (l >= starts[r + 1]) r++;
                        for (int jj = 0; jj < Gemm.NR; jj++) d[l * Gemm.NR + jj] = jj < nr ? s.S[bases[r] + l + tapOff[jj]] : 0f;
                    }
                    continue;
                }
                StagedImages.LaneMasks(starts, runs, 0, masks);
                for (int jj = 0; jj < Gemm.NR; jj++) v[jj] = jj < nr ? StagedImages.Load8(s.S, tapOff[jj], runs, bases, masks) : Vector256<float>.Zero;
                // A last group of fewer than eight positions goes through a buffer: its transpose has eight rows.
                float* t = lanes == 8 ? d : tail;
                Gemm.StoreTransposed(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], t, Gemm.NR);
                Gemm.StoreTransposed(v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], t + 8, Gemm.NR);
                if (lanes < 8) new ReadOnlySpan<float>(tail, lanes * Gemm.NR).CopyTo(new Span<float>(d, lanes * Gemm.NR));
            }
        }
    }
}
