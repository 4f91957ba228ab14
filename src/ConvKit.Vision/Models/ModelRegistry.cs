using ConvKit.Nn;

namespace ConvKit.Vision.Models;

/// <summary>What a model predicts: a class map per pixel, or one class per image.</summary>
public enum ModelTask
{
    /// <summary>Logits [N, K, H, W] for images [N, C, H, W].</summary>
    Segmentation,
    /// <summary>Logits [N, K] for images [N, C, H, W].</summary>
    Classification,
}

/// <summary>A named model: its task, a one-line description and a factory taking (inChannels, numClasses).</summary>
public sealed record ModelSpec(string Name, ModelTask Task, string Description, Func<int, int, Module> Factory)
{
    /// <summary>Builds the model; initialisation draws from <see cref="Generator.Current"/>.</summary>
    public Module Create(int inChannels, int numClasses) => Factory(inChannels, numClasses);
}

/// <summary>
/// The models the <c>convkit</c> tool and checkpoints refer to by name. A checkpoint stores the name, the input
/// channels and the classes, so <see cref="Get"/> rebuilds the model it belongs to.
/// </summary>
public static class ModelRegistry
{
    public static IReadOnlyList<ModelSpec> All { get; } =
    [
        new("unet-small", ModelTask.Segmentation, "UNet, widths 16-32-64-128, conv-stack pyramid, sigmoid channel attention (fast on a CPU)",
            (c, k) => UNet.Small(c, k, PyramidKind.ConvStack, AttentionKind.Sigmoid)),
        new("unet-small-aspp", ModelTask.Segmentation, "UNet, widths 16-32-64-128, atrous (ASPP) pyramid, sigmoid channel attention",
            (c, k) => UNet.Small(c, k, PyramidKind.Atrous, AttentionKind.Sigmoid)),
        new("unet", ModelTask.Segmentation, "UNet of the tutorial (SeedUNet): widths 64..1024, conv-stack pyramid, softmax channel attention",
            (c, k) => new UNet(c, k)),
        new("fcn-resnet18", ModelTask.Segmentation, "FCN on the ResNet18 trunk with a bilinear-initialised 32x transposed conv",
            (c, k) => new FcnResNet18(k, c)),
        new("resnet18", ModelTask.Classification, "torchvision ResNet18", (c, k) => ResNet.ResNet18(k, c)),
        new("resnet34", ModelTask.Classification, "torchvision ResNet34", (c, k) => ResNet.ResNet34(k, c)),
        new("se-resnet18", ModelTask.Classification, "ResNet18 with squeeze-excitation in every block", (c, k) => ResNet.SEResNet18(k, c)),
        new("se-resnet34", ModelTask.Classification, "ResNet34 with squeeze-excitation in every block", (c, k) => ResNet.SEResNet34(k, c)),
        new("se-cnn", ModelTask.Classification, "SmallSECnn: three conv-BN-ReLU-SE blocks for 28x28 images", (c, k) => new SmallSECnn(k, c)),
    ];

    /// <summary>The model named <paramref name="name"/>; an unknown name is an ArgumentException listing the known ones.</summary>
    public static ModelSpec Get(string name) =>
        All.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"unknown model '{name}'; expected one of: {string.Join(", ", All.Select(m => m.Name))}");
}
