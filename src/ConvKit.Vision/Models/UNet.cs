using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>
/// UNet with a "pyramid" module on each upsampled path and channel attention on each skip connection, after the
/// UNet tutorial (shared/reference/000) as fixed by SeedUNet (shared/peer/peer_models.py).
/// input [N, inChannels, H, W] → logits [N, numClasses, H, W] for any H, W ≥ 1.
/// <para>
/// Encoder stage 0 is two conv3×3-BN-ReLU at widths[0]; stage i ≥ 1 is a stride-2 conv3×3-BN-ReLU to widths[i]
/// (H → ⌈H/2⌉) and a conv3×3-BN-ReLU. Each decoder stage upsamples with ConvTranspose2d(k 2, stride 2), crops the
/// result to the skip's size (the odd extra row/column of ⌈H/2⌉·2), concatenates [attention(skip), pyramid(up)],
/// applies BatchNorm2d over the 2C channels, ReLU, then conv3×3-BN-ReLU back to C. A final 1×1 conv gives the logits.
/// </para>
/// <para>
/// With five widths, <see cref="PyramidKind.ConvStack"/> and <see cref="AttentionKind.Softmax"/> the parameter and
/// buffer names and order equal SeedUNet's (enc.0.0.0.weight, up.0.weight, pyr.0.convs.0.weight,
/// att.0.conv1.weight, bn1.0.weight, conv2.0.0.weight, out.weight, ...), so its state_dict loads by name and the
/// same seed gives the same initial weights; for H, W multiples of 16 the output equals SeedUNet's.
/// </para>
/// </summary>
public sealed class UNet : Module
{
    /// <summary>SeedUNet's widths (64, 128, 256, 512, 1024).</summary>
    public static IReadOnlyList<int> DefaultWidths { get; } = [64, 128, 256, 512, 1024];

    /// <summary>The widths of <see cref="Small"/>, (16, 32, 64, 128): fast enough to train on a CPU at 64×64.</summary>
    public static IReadOnlyList<int> SmallWidths { get; } = [16, 32, 64, 128];

    public IReadOnlyList<int> Widths { get; }
    public int InChannels { get; }
    public int NumClasses { get; }
    public ModuleList<Sequential> Enc { get; }
    public ModuleList<ConvTranspose2d> Up { get; }
    public ModuleList<Module> Pyr { get; }
    public ModuleList<ChannelAttention> Att { get; }
    public ModuleList<BatchNorm2d> Bn1 { get; }
    public ModuleList<Sequential> Conv2 { get; }
    public Conv2d Out { get; }

    /// <param name="inChannels">Channels of the input image.</param>
    /// <param name="numClasses">Output channels (one logit map per class).</param>
    /// <param name="widths">Channels per encoder stage, at least one; default <see cref="DefaultWidths"/>. The depth is its length.</param>
    /// <param name="pyramid">The module on each upsampled path.</param>
    /// <param name="attention">How the skip attention weights its channels.</param>
    public UNet(int inChannels = 3, int numClasses = 2, IReadOnlyList<int>? widths = null,
                PyramidKind pyramid = PyramidKind.ConvStack, AttentionKind attention = AttentionKind.Softmax)
    {
        var w = (widths ?? DefaultWidths).ToArray();
        if (inChannels <= 0) throw new ArgumentException($"UNet: inChannels must be positive, got {inChannels}");
        if (numClasses <= 0) throw new ArgumentException($"UNet: numClasses must be positive, got {numClasses}");
        if (w.Length == 0 || w.Any(c => c <= 0))
            throw new ArgumentException($"UNet: widths must be one or more positive channel counts, got [{string.Join(", ", w)}]");
        if (!Enum.IsDefined(pyramid)) throw new ArgumentException($"UNet: unknown pyramid kind {pyramid}");
        if (!Enum.IsDefined(attention)) throw new ArgumentException($"UNet: unknown attention kind {attention}");
        Widths = w;
        InChannels = inChannels;
        NumClasses = numClasses;
        // Decoder stage i works at the width of encoder stage n-2-i. Construction order = SeedUNet's (same draws).
        var dec = Enumerable.Range(0, w.Length - 1).Select(i => (From: w[w.Length - 1 - i], C: w[w.Length - 2 - i])).ToArray();
        Enc = RegisterModule("enc", new ModuleList<Sequential>(Enumerable.Range(0, w.Length).Select(i => i == 0
            ? new Sequential(ConvBnRelu.Create(inChannels, w[0]), ConvBnRelu.Create(w[0], w[0]))
            : new Sequential(ConvBnRelu.Create(w[i - 1], w[i], stride: 2), ConvBnRelu.Create(w[i], w[i])))));
        Up = RegisterModule("up", new ModuleList<ConvTranspose2d>(dec.Select(d => new ConvTranspose2d(d.From, d.C, 2, 2))));
        Pyr = RegisterModule("pyr", new ModuleList<Module>(dec.Select(d => pyramid == PyramidKind.ConvStack
            ? (Module)new ConvPyramid(d.C, d.C) : new AtrousPyramid(d.C, d.C))));
        Att = RegisterModule("att", new ModuleList<ChannelAttention>(dec.Select(d => new ChannelAttention(d.C, attention))));
        Bn1 = RegisterModule("bn1", new ModuleList<BatchNorm2d>(dec.Select(d => new BatchNorm2d(2 * d.C))));
        Conv2 = RegisterModule("conv2", new ModuleList<Sequential>(dec.Select(d => ConvBnRelu.Create(2 * d.C, d.C))));
        Out = RegisterModule("out", new Conv2d(w[0], numClasses, 1));
    }

    /// <summary>The small preset: widths <see cref="SmallWidths"/> (16, 32, 64, 128), depth 4.</summary>
    public static UNet Small(int inChannels = 3, int numClasses = 2, PyramidKind pyramid = PyramidKind.ConvStack,
                             AttentionKind attention = AttentionKind.Softmax) =>
        new(inChannels, numClasses, SmallWidths, pyramid, attention);

    /// <summary>input [N, inChannels, H, W] → logits [N, numClasses, H, W].</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Dim != 4 || input.Sizes[1] != InChannels)
            throw new ArgumentException($"UNet: expected input [N, {InChannels}, H, W], got {ShapeUtil.Format(input.Sizes)}");
        var skips = new List<Tensor>();
        var x = input;
        foreach (var e in Enc) skips.Add(x = e.Call(x));
        for (int i = 0; i < Up.Count; i++)
        {
            var skip = skips[skips.Count - 2 - i];
            var up = CropTo(Up[i].Call(x), skip.Sizes[2], skip.Sizes[3]);
            x = Tensor.Cat([Att[i].Call(skip), Pyr[i].Call(up)], 1);
            x = Conv2[i].Call(F.Relu(Bn1[i].Call(x)));
        }
        return Out.Call(x);
    }

    /// <summary>Crops (or zero-pads) the bottom and right of [N, C, H, W] to [N, C, h, w].</summary>
    private static Tensor CropTo(Tensor x, int h, int w) =>
        x.Sizes[2] == h && x.Sizes[3] == w ? x : F.Pad(x, [0, w - x.Sizes[3], 0, h - x.Sizes[2]]);

    protected override string ExtraRepr() => $"widths=[{string.Join(", ", Widths)}]";
}
