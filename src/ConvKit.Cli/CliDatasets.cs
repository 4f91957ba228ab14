using ConvKit.Data;
using ConvKit.Vision.Data;

namespace ConvKit.Cli;

/// <summary>What a command asks of a dataset: its name, split (train or val) and the options some datasets take.</summary>
internal sealed record DatasetRequest(string Name, string Split, string? DataDir = null, int? Count = null, int ImageSize = 64, ulong Seed = 0);

/// <summary>A split of a named dataset: segmentation samples or classification images, with the class names.</summary>
internal abstract record CliDataset(string Name, string Description, IReadOnlyList<string> ClassNames);

/// <summary>Images [C, H, W] in [0, 1] with masks [H, W].</summary>
internal sealed record SegmentationData(IDataset<SegmentationSample> Samples, string Name, string Description, IReadOnlyList<string> ClassNames)
    : CliDataset(Name, Description, ClassNames);

/// <summary>Images [N, C, H, W] in [0, 1] with labels [N].</summary>
internal sealed record ClassificationData(TensorDataset Samples, string Name, string Description, IReadOnlyList<string> ClassNames)
    : CliDataset(Name, Description, ClassNames);

/// <summary>
/// The datasets the commands know by name. shapes is generated (SyntheticShapes); fashion-mnist and cifar10 are read
/// from --data-dir (fashion-mnist also from $CONVKIT_FASHION_MNIST or Debian's location). The "val" split of a
/// dataset with a train/test split is its test set. A new dataset (e.g. voc) is one more entry in <see cref="Resolve"/>.
/// </summary>
internal static class CliDatasets
{
    public static IReadOnlyList<string> Names { get; } = ["shapes", "fashion-mnist", "cifar10"];

    public static CliDataset Resolve(DatasetRequest r)
    {
        if (r.Split is not ("train" or "val")) throw new ArgumentException($"unknown split '{r.Split}'; expected train or val");
        if (r.Count is < 1) throw new ArgumentException($"--count must be at least 1, got {r.Count}");
        bool train = r.Split == "train";
        return r.Name switch
        {
            "shapes" => Shapes(r, train),
            "fashion-mnist" => Classification(FashionMnist.Load(r.DataDir, train), r, FashionMnist.Classes),
            "cifar10" => Classification(Cifar10.Load(r.DataDir ?? throw new ArgumentException("cifar10 needs --data-dir (the folder with cifar-10-batches-bin)"), train), r, Cifar10.Classes),
            var n => throw new ArgumentException($"unknown dataset '{n}'; available: {string.Join(", ", Names)}"),
        };
    }

    private static SegmentationData Shapes(DatasetRequest r, bool train)
    {
        int count = r.Count ?? 64;
        var data = new SyntheticShapes(count, r.ImageSize, r.ImageSize, r.Seed, train ? SyntheticSplit.Train : SyntheticSplit.Val);
        return new(data, r.Name, $"shapes {r.Split} ({count} images of {r.ImageSize}x{r.ImageSize}, seed {r.Seed})", SyntheticShapes.ClassNames);
    }

    private static ClassificationData Classification(TensorDataset data, DatasetRequest r, IReadOnlyList<string> classes)
    {
        if (r.Count is int n && n < data.Count)
            data = new TensorDataset(data.Images.Narrow(0, 0, n).Contiguous(), LongTensor.FromArray(data.Labels.ToArray()[..n], n));
        var shape = data.ImageShape;
        return new(data, r.Name, $"{r.Name} {r.Split} ({data.Count} images of {shape[1]}x{shape[2]})", classes);
    }
}
