using ConvKit.Vision.Imaging;
using Xunit;

namespace ConvKit.Vision.Tests.Imaging;

public class OverlayTests
{
    [Fact]
    public void BlendsClassColoursHalfRoundingUpAndLeavesBackgroundAndIgnore()
    {
        var rgb = new Image(3, 1, 3, [10, 20, 30, 100, 100, 100, 7, 8, 9]);
        var overlay = Overlay.Draw(rgb, LongTensor.FromArray(new long[] { 0, 1, 255 }, 1, 3));
        // VOC class 1 is (128, 0, 0): (100 + 128) / 2 = 114, (100 + 0) / 2 = 50.
        Assert.Equal(new byte[] { 10, 20, 30, 114, 50, 50, 7, 8, 9 }, overlay.Data);
    }

    [Fact]
    public void GreyAndTensorImagesBecomeRgbAndSizesMustAgree()
    {
        var grey = new Image(2, 1, 1, [0, 200]);
        Assert.Equal(new byte[] { 0, 0, 0, 100, 164, 100 }, Overlay.Draw(grey, LongTensor.FromArray(new long[] { 0, 2 }, 1, 2)).Data);
        var fromTensor = Overlay.Draw(Tensor.FromArray([1f, 0f, 0f, 0f, 0f, 1f], 3, 1, 2), LongTensor.FromArray(new long[] { 0, 0 }, 1, 2));
        Assert.Equal(new byte[] { 255, 0, 0, 0, 0, 255 }, fromTensor.Data);
        var e = Assert.Throws<ArgumentException>(() => Overlay.Draw(grey, LongTensor.FromArray(new long[] { 0, 0 }, 2, 1)));
        Assert.Contains("expected a mask [1, 2]", e.Message);
    }
}
