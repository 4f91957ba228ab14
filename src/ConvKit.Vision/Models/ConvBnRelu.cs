using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>The conv → BatchNorm2d → ReLU triple shared by the models, as an <c>nn.Sequential</c> (children 0, 1, 2).</summary>
internal static class ConvBnRelu
{
    /// <summary>Sequential(Conv2d(k, stride, padding, dilation, bias), BatchNorm2d(cOut), ReLU): [N, cIn, H, W] → [N, cOut, H', W'].</summary>
    public static Sequential Create(int cIn, int cOut, int kernelSize = 3, int stride = 1, int padding = 1, int dilation = 1, bool bias = true) =>
        new(new Conv2d(cIn, cOut, kernelSize, stride, padding, dilation, bias: bias), new BatchNorm2d(cOut), new ReLU());
}
