using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>Which module the UNet applies to each upsampled decoder path.</summary>
public enum PyramidKind
{
    /// <summary>The tutorial's "pyramid": a stack of 1×1, 3×3, 3×3, 3×3, 1×1 convs each followed by ReLU (<see cref="ConvPyramid"/>).</summary>
    ConvStack,
    /// <summary>A true multi-scale pyramid, ASPP-like: dilated 3×3 branches plus image pooling, fused by a 1×1 (<see cref="AtrousPyramid"/>).</summary>
    Atrous,
}

/// <summary>
/// The UNet tutorial's "pyramid" module (SeedUNet's <c>Pyramid</c>): ReLU after each of Conv2d(cIn, cOut, 1),
/// three Conv2d(cOut, cOut, 3, padding 1) and Conv2d(cOut, cOut, 1). Despite the name it works at one scale.
/// input [N, cIn, H, W] → [N, cOut, H, W]. Parameters convs.0..4.weight/bias.
/// </summary>
public sealed class ConvPyramid : Module
{
    public ModuleList<Conv2d> Convs { get; }

    public ConvPyramid(int inChannels, int outChannels)
    {
        if (inChannels <= 0 || outChannels <= 0)
            throw new ArgumentException($"ConvPyramid: expected positive channel counts, got in={inChannels}, out={outChannels}");
        Convs = RegisterModule("convs", new ModuleList<Conv2d>(
            new Conv2d(inChannels, outChannels, 1), new Conv2d(outChannels, outChannels, 3, padding: 1),
            new Conv2d(outChannels, outChannels, 3, padding: 1), new Conv2d(outChannels, outChannels, 3, padding: 1),
            new Conv2d(outChannels, outChannels, 1)));
    }

    public override Tensor Forward(Tensor input)
    {
        foreach (var c in Convs) input = InferenceFusion.ConvRelu(c, input) ?? F.Relu(c.Call(input));
        return input;
    }
}
