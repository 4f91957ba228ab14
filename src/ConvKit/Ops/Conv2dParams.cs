namespace ConvKit;

/// <summary>
/// The geometry of one 2-D convolution, computed once and shared by forward, backward, kernels and error
/// messages. The "input" side is [N, CIn, H, W] and the "output" side [N, COut, OutH, OutW]; output
/// position (oh, ow) reads input (oh·StrideH − PadTop + kh·DilationH, ow·StrideW − PadLeft + kw·DilationW).
/// A transposed convolution is the adjoint of the convolution with the same parameters, so it runs the
/// same geometry from the output side back to the input side. Weight is [COut, CIn / Groups, KH, KW].
/// </summary>
public sealed record Conv2dParams
{
    public int N { get; init; }
    public int CIn { get; init; }
    public int H { get; init; }
    public int W { get; init; }
    public int COut { get; init; }
    public int KH { get; init; }
    public int KW { get; init; }
    public int StrideH { get; init; } = 1;
    public int StrideW { get; init; } = 1;
    public int PadTop { get; init; }
    public int PadLeft { get; init; }
    public int DilationH { get; init; } = 1;
    public int DilationW { get; init; } = 1;
    public int Groups { get; init; } = 1;
    public int OutH { get; init; }
    public int OutW { get; init; }

    public int CInPerGroup => CIn / Groups;
    public int COutPerGroup => COut / Groups;
    /// <summary>Rows of the im2col matrix of one group: CIn/Groups · KH · KW.</summary>
    public int ColRows => CInPerGroup * KH * KW;
    public int InPlane => H * W;
    public int OutPlane => OutH * OutW;

    /// <summary>The output size of a convolution along one axis, or a negative value when the kernel does not fit.</summary>
    public static int ConvOutSize(int size, int padTotal, int kernel, int stride, int dilation) =>
        (size + padTotal - dilation * (kernel - 1) - 1) is var span && span < 0 ? -1 : span / stride + 1;

    /// <summary>Stores a copy with another batch size (the weight geometry is per image).</summary>
    public Conv2dParams WithBatch(int n) => this with { N = n };

    public override string ToString() =>
        $"N={N} CIn={CIn} H={H} W={W} COut={COut} k=({KH}, {KW}) stride=({StrideH}, {StrideW}) pad=({PadTop}, {PadLeft}) dilation=({DilationH}, {DilationW}) groups={Groups} out=({OutH}, {OutW})";
}
