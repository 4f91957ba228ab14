using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Models;

namespace ConvKit.Cli;

/// <summary>The datasets <c>convkit train</c> knows by name, with their task, channels, classes and normalisation.</summary>
internal sealed record TrainSource(string Name, ModelTask Task, int InChannels, IReadOnlyList<string> ClassNames, float[] Mean, float[] Std,
    IDataset<SegmentationSample>? SegTrain = null, IDataset<SegmentationSample>? SegVal = null,
    TensorDataset? ClsTrain = null, TensorDataset? ClsVal = null)
{
    public int NumClasses => ClassNames.Count;

    public static readonly string[] Names = ["shapes", "fashion-mnist", "cifar10"];

    /// <summary>
    /// Loads dataset <paramref name="name"/>: "shapes" (embedded synthetic shapes, <paramref name="count"/> training
    /// images of <paramref name="size"/>²), "fashion-mnist" (IDX files) or "cifar10" (binary batches) from
    /// <paramref name="dir"/>. Image values are in [0, 1]; the model normalises with <see cref="Mean"/>/<see cref="Std"/>.
    /// </summary>
    public static TrainSource Load(string name, string? dir, int count, int size, ulong seed) => name switch
    {
        "shapes" => new(name, ModelTask.Segmentation, 3, SyntheticShapes.ClassNames, [0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f],
            SegTrain: new SyntheticShapes(count, size, size, seed), SegVal: new SyntheticShapes(Math.Max(64, count / 10), size, size, seed, SyntheticSplit.Val)),
        "fashion-mnist" => new(name, ModelTask.Classification, 1, FashionMnistClasses, [FashionMnist.Mean], [FashionMnist.Std],
            ClsTrain: FashionMnist.Load(dir, train: true), ClsVal: FashionMnist.Load(dir, train: false)),
        "cifar10" => new(name, ModelTask.Classification, 3, Cifar10.Classes, [0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f],
            ClsTrain: Cifar10.Load(dir ?? throw new ArgumentException("cifar10 needs --data-dir, the folder with data_batch_1.bin ... test_batch.bin"), train: true),
            ClsVal: Cifar10.Load(dir, train: false)),
        _ => throw new ArgumentException($"unknown dataset '{name}'; expected one of: {string.Join(", ", Names)}"),
    };

    private static readonly string[] FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
}
