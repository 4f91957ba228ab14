using ConvKit.Kernels.Cpu;

namespace ConvKit;

public partial class Tensor
{
    /// <summary>
    /// Matrix product with PyTorch's rules (<c>torch.matmul</c>): 1-D·1-D is a dot product, a 1-D operand is
    /// promoted to a row (left) or column (right) and the added dim removed, and leading batch dims broadcast.
    /// </summary>
    public Tensor Matmul(Tensor other)
    {
        var a = this;
        var b = other;
        if (a.Dim == 0 || b.Dim == 0)
            throw new ArgumentException($"matmul: both arguments to matmul need to be at least 1D, but they are {a.Dim}D and {b.Dim}D");
        bool squeezeRow = a.Dim == 1, squeezeCol = b.Dim == 1;
        if (squeezeRow) a = a.Unsqueeze(0);
        if (squeezeCol) b = b.Unsqueeze(1);
        var r = MatmulBatched(a, b);
        if (squeezeCol) r = r.Squeeze(-1);
        if (squeezeRow) r = r.Squeeze(squeezeCol ? -1 : -2);
        return r;
    }

    private static Tensor MatmulBatched(Tensor a, Tensor b)
    {
        int m = a.Sizes[^2], k = a.Sizes[^1], k2 = b.Sizes[^2], n = b.Sizes[^1];
        if (k != k2)
            throw new ArgumentException($"matmul: shapes {ShapeUtil.Format(a.Sizes)} and {ShapeUtil.Format(b.Sizes)} cannot be multiplied ({m}x{k} and {k2}x{n})");
        var batch = ShapeUtil.Broadcast(a.Sizes[..^2], b.Sizes[..^2], "matmul");
        int batchCount = ShapeUtil.Numel(batch);
        var a3 = a.Detach().Expand([.. batch, m, k]).Reshape(batchCount, m, k);
        var b3 = b.Detach().Expand([.. batch, k, n]).Reshape(batchCount, k, n);
        var result = Empty([.. batch, m, n]);
        var (ad, aTrans, lda) = MatrixOperand(ref a3);
        var (bd, bTrans, ldb) = MatrixOperand(ref b3);
        for (int i = 0; i < batchCount; i++)
            Gemm.Sgemm(aTrans, bTrans, m, n, k, ad, a3.Offset + i * a3.Strides[0], lda, bd, b3.Offset + i * b3.Strides[0], ldb,
                       result.Storage, i * m * n, n, false, Engine.Threads);
        return Autograd.Record(result, [a, b], g => [
            a.RequiresGrad ? g.Matmul(b.Detach().Transpose(-1, -2)).SumToShape(a.Sizes) : null,
            b.RequiresGrad ? a.Detach().Transpose(-1, -2).Matmul(g).SumToShape(b.Sizes) : null]);
    }

    /// <summary>
    /// How GEMM can read a [B, r, c] operand in place: row-major (unit column stride) or transposed
    /// (unit row stride, e.g. a <c>.T()</c> view). Anything else is made contiguous first.
    /// </summary>
    private static (float[] Data, bool Trans, int Ld) MatrixOperand(ref Tensor t)
    {
        int r = t.Sizes[1], c = t.Sizes[2];
        if ((t.Strides[2] == 1 || c == 1) && t.Strides[1] >= Math.Max(c, 1)) return (t.Storage, false, Math.Max(t.Strides[1], 1));
        if ((t.Strides[1] == 1 || r == 1) && t.Strides[2] >= Math.Max(r, 1)) return (t.Storage, true, Math.Max(t.Strides[2], 1));
        t = t.Contiguous();
        return (t.Storage, false, Math.Max(c, 1));
    }
}

public static partial class F
{
    /// <summary>
    /// y = x·Wᵀ + b, as <c>torch.nn.functional.linear</c>. input [*, InFeatures]; weight [OutFeatures, InFeatures];
    /// bias [OutFeatures]; returns [*, OutFeatures].
    /// </summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        if (weight.Dim != 2)
            throw new ArgumentException($"linear: expected weight [out_features, in_features], got {ShapeUtil.Format(weight.Sizes)}");
        if (input.Dim == 0 || input.Sizes[^1] != weight.Sizes[1])
            throw new ArgumentException($"linear: mat1 and mat2 shapes cannot be multiplied (input {ShapeUtil.Format(input.Sizes)} and weight.T {ShapeUtil.Format([weight.Sizes[1], weight.Sizes[0]])}); expected input's last dimension to be {weight.Sizes[1]}");
        if (bias != null && (bias.Dim > 1 || bias.Numel != weight.Sizes[0]))
            throw new ArgumentException($"linear: expected bias of shape [{weight.Sizes[0]}], got {ShapeUtil.Format(bias.Sizes)}");
        var y = input.Matmul(weight.T());
        return bias is null ? y : y + bias;
    }
}
