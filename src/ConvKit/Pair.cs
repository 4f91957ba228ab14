namespace ConvKit;

/// <summary>
/// A (height, width) pair of ints, as PyTorch's <c>_pair</c>: an <c>int</c> converts to (v, v) and a
/// tuple <c>(h, w)</c> converts as is. Used for kernel size, stride, padding, dilation and output padding.
/// </summary>
public readonly record struct Pair(int H, int W)
{
    public static implicit operator Pair(int v) => new(v, v);
    public static implicit operator Pair((int H, int W) t) => new(t.H, t.W);
    public override string ToString() => $"({H}, {W})";
}

/// <summary>
/// Padding for <see cref="F.Conv2d"/>: an int, an (h, w) pair, or the strings <c>"same"</c> / <c>"valid"</c>
/// exactly as <c>torch.nn.functional.conv2d</c> accepts them.
/// </summary>
public readonly record struct Padding
{
    public Pair Size { get; }
    public bool IsSame { get; }

    private Padding(Pair size, bool same) { Size = size; IsSame = same; }

    public static Padding Same => new(0, true);
    public static Padding Valid => new(0, false);

    public static implicit operator Padding(int v) => new(v, false);
    public static implicit operator Padding((int H, int W) t) => new(t, false);
    public static implicit operator Padding(Pair p) => new(p, false);
    public static implicit operator Padding(string mode) => mode switch
    {
        "same" => Same,
        "valid" => Valid,
        _ => throw new ArgumentException($"Invalid padding string '{mode}', should be one of {{'valid', 'same'}}", nameof(mode)),
    };

    public override string ToString() => IsSame ? "'same'" : Size.ToString();
}
