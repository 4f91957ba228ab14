using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>How <see cref="ChannelAttention"/> turns its excitation into channel weights.</summary>
public enum AttentionKind
{
    /// <summary>SeedUNet's choice: softmax over channels of ReLU(excitation); the weights of a sample sum to 1.</summary>
    Softmax,
    /// <summary>Squeeze-Excitation's gate: sigmoid(excitation), one independent weight in (0, 1) per channel.</summary>
    Sigmoid,
}

/// <summary>
/// Channel attention of the UNet tutorial (SeedUNet's <c>Attention</c>): s = mean of x over H and W,
/// e = conv2(ReLU(conv1(s))) with 1×1 convs C → max(1, ⌊C/8⌋) → C, weights = softmax(ReLU(e)) over channels
/// (<see cref="AttentionKind.Softmax"/>) or sigmoid(e) (<see cref="AttentionKind.Sigmoid"/>), output = weights · x.
/// input [N, C, H, W] → [N, C, H, W]. Parameters conv1.weight/bias, conv2.weight/bias.
/// </summary>
public sealed class ChannelAttention : Module
{
    public Conv2d Conv1 { get; }
    public Conv2d Conv2 { get; }
    public AttentionKind Kind { get; }

    public ChannelAttention(int channels, AttentionKind kind = AttentionKind.Softmax)
    {
        if (channels <= 0) throw new ArgumentException($"ChannelAttention: channels must be positive, got {channels}");
        if (!Enum.IsDefined(kind)) throw new ArgumentException($"ChannelAttention: unknown attention kind {kind}");
        int reduced = Math.Max(1, channels / 8);
        Kind = kind;
        Conv1 = RegisterModule("conv1", new Conv2d(channels, reduced, 1));
        Conv2 = RegisterModule("conv2", new Conv2d(reduced, channels, 1));
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Dim != 4) throw new ArgumentException($"ChannelAttention: expected input [N, C, H, W], got {ShapeUtil.Format(input.Sizes)}");
        var s = input.Mean([2, 3], keepDim: true);
        var e = Conv2.Call(F.Relu(Conv1.Call(s)));
        var w = Kind == AttentionKind.Softmax ? F.Softmax(F.Relu(e), 1) : F.Sigmoid(e);
        return w * input;
    }

    protected override string ExtraRepr() => $"kind={Kind}";
}
