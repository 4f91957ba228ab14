using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>
/// Bilinear upsampling as a transposed convolution, as in the FCN tutorial (shared/reference/002):
/// ConvTranspose2d(C, C, kernel 2f, stride f, padding f/2, no bias) whose weight is
/// <see cref="Init.BilinearKernel"/>(C, C, 2f), i.e. weight[c, c] = the bilinear filter and 0 across channels
/// (the tutorial's <c>weight[range(C), range(C)] = filt</c>). input [C, H, W] or [N, C, H, W] → [.., C, f·H, f·W].
/// The weight is a parameter (<c>conv.weight</c>), so the layer can be fine-tuned like FCN's transpose_conv.
/// </summary>
public sealed class BilinearUpsampler : Module
{
    public ConvTranspose2d Conv { get; }
    public int Channels { get; }
    public int Factor { get; }

    /// <param name="channels">Channels C, each upsampled on its own.</param>
    /// <param name="factor">Scale factor, even (2 gives the tutorial's kernel 4, stride 2, padding 1).</param>
    public BilinearUpsampler(int channels, int factor = 2)
    {
        if (channels <= 0) throw new ArgumentException($"BilinearUpsampler: channels must be positive, got {channels}");
        Channels = channels;
        Factor = factor;
        Conv = RegisterModule("conv", CreateLayer(channels, channels, factor, bias: false));
    }

    /// <summary>
    /// A ConvTranspose2d(inChannels, outChannels, 2·factor, stride factor, padding factor/2) initialised with the bilinear
    /// kernel (the bias, if any, keeps PyTorch's default init, as in the tutorial). It maps H to factor·H.
    /// </summary>
    public static ConvTranspose2d CreateLayer(int inChannels, int outChannels, int factor, bool bias = true)
    {
        if (factor < 2 || factor % 2 != 0) throw new ArgumentException($"BilinearUpsampler: factor must be even and at least 2, got {factor}");
        var layer = new ConvTranspose2d(inChannels, outChannels, 2 * factor, factor, factor / 2, bias: bias);
        using (Autograd.NoGrad()) layer.Weight.CopyFrom(Init.BilinearKernel(inChannels, outChannels, 2 * factor));
        return layer;
    }

    /// <summary>[C, H, W] or [N, C, H, W] → [C, f·H, f·W] or [N, C, f·H, f·W].</summary>
    public override Tensor Forward(Tensor input)
    {
        if ((input.Dim != 3 && input.Dim != 4) || input.Sizes[^3] != Channels)
            throw new ArgumentException($"BilinearUpsampler: expected an image [{Channels}, H, W] or a batch [N, {Channels}, H, W], got {ShapeUtil.Format(input.Sizes)}");
        return Conv.Call(input);
    }

    /// <summary>Upsamples an image [C, H, W] or batch [N, C, H, W] 2× with the bilinear transposed convolution.</summary>
    public static Tensor Upsample2x(Tensor image)
    {
        if (image.Dim != 3 && image.Dim != 4)
            throw new ArgumentException($"BilinearUpsampler: expected an image [C, H, W] or a batch [N, C, H, W], got {ShapeUtil.Format(image.Sizes)}");
        return new BilinearUpsampler(image.Sizes[^3]).Forward(image);
    }
}
