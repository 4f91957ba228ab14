using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>
/// A small classifier for 28×28 grey images (Fashion-MNIST): three conv-BN-ReLU-SE blocks (32, 64, 128
/// channels) with 2×2 max pooling between them, global average pooling and a linear head. input
/// [N, 1, 28, 28] → logits [N, classes]. Layout and parameter names (<c>f.0.0.weight</c>, ...) match
/// SmallSECnn of shared/peer/peer_models.py, so the same seed initialises the same weights as PyTorch.
/// </summary>
public sealed class SmallSECnn : Module
{
    public Sequential Features { get; }

    public SmallSECnn(int classes = 10, int inChannels = 1)
    {
        Module Block(int i, int o) => new Sequential(new Conv2d(i, o, 3, padding: 1), new BatchNorm2d(o), new ReLU(), new SqueezeExcitation(o));
        Features = RegisterModule("f", new Sequential(
            Block(inChannels, 32), new MaxPool2d(2), Block(32, 64), new MaxPool2d(2), Block(64, 128),
            new AdaptiveAvgPool2d(1), new Flatten(), new Linear(128, classes)));
    }

    public override Tensor Forward(Tensor input) => Features.Call(input);
}
