using ConvKit.Data;
using ConvKit.Vision.Data;

namespace ConvKit.Cli;

/// <summary>What a command asks of a dataset: its name, split (train or val) and the options some datasets take.</summary>
internal sealed record DatasetRequest(string Name, string Split, string? DataDir = null, int? Count = null, int ImageSize = 64, ulong Seed = 0);

/// <summary>
/// A split of a named dataset: segmentation samples or classification images, with the class names and the
/// per-channel mean and std a model trained on it normalises with.
/// </summary>
internal abstract record CliDataset(string Name, string Description, IReadOnlyList<string> ClassNames, float[] Mean, float[] Std)
{
    public int InChannels => Mean.Length;
}

/// <summary>Images [C, H, W] in [0, 1] with masks [H, W].</summary>
internal sealed record SegmentationData(IDataset<SegmentationSample> Samples, string Name, string Description, IReadOnlyList<string> ClassNames, float[] Mean, float[] Std)
    : CliDataset(Name, Description, ClassNames, Mean, Std);

/// <summary>Images [N, C, H, W] in [0, 1] with labels [N].</summary>
internal sealed record ClassificationData(TensorDataset Samples, string Name, string Description, IReadOnlyList<string> ClassNames, float[] Mean, float[] Std)
    : CliDataset(Name, Description, ClassNames, Mean, Std);

/// <summary>
/// The datasets the commands know by name. shapes is generated (SyntheticShapes); fashion-mnist and cifar10 are read
/// from --data-dir (fashion-mnist also from $CONVKIT_FASHION_MNIST or Debian's location). The "val" split of a
/// dataset with a train/test split is its test set. A new dataset (e.g. voc) is one more entry in <see cref="Resolve"/>.
/// </summary>
internal static class CliDatasets
{
    public static IReadOnlyList<string> Names { get; } = ["shapes", "voc", "fashion-mnist", "cifar10"];

    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    public static CliDataset Resolve(DatasetRequest r)
    {
        if (r.Split is not ("train" or "val")) throw new ArgumentException($"unknown split '{r.Split}'; expected train or val");
        if (r.Count is < 1) throw new ArgumentException($"--count must be at least 1, got {r.Count}");
        bool train = r.Split == "train";
        return r.Name switch
        {
            "shapes" => Shapes(r, train),
            "voc" => Voc(r, train),
            "fashion-mnist" => Classification(FashionMnist.Load(r.DataDir, train), r, FashionMnist.Classes, [FashionMnist.Mean], [FashionMnist.Std]),
            "cifar10" => Classification(Cifar10.Load(r.DataDir ?? throw new ArgumentException("cifar10 needs --data-dir (the folder with cifar-10-batches-bin)"), train), r, Cifar10.Classes,
                [0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]),
            var n => throw new ArgumentException($"unknown dataset '{n}'; available: {string.Join(", ", Names)}"),
        };
    }

    private static SegmentationData Shapes(DatasetRequest r, bool train)
    {
        int count = r.Count ?? 64;
        var data = new SyntheticShapes(count, r.ImageSize, r.ImageSize, r.Seed, train ? SyntheticSplit.Train : SyntheticSplit.Val);
        return new(data, r.Name, $"shapes {r.Split} ({count} images of {r.ImageSize}x{r.ImageSize}, seed {r.Seed})", SyntheticShapes.ClassNames,
            [0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
    }

    /// <summary>
    /// VOC images differ in size, so batches need one: training samples get torchvision's random scale (0.5–2) and
    /// crop to --image-size, validation samples a centre crop (padding with the ignore value where the image is smaller).
    /// </summary>
    private static SegmentationData Voc(DatasetRequest r, bool train)
    {
        var voc = new VocSegmentation(r.DataDir ?? throw new ArgumentException("voc needs --data-dir (the VOC2012 folder with JPEGImages, SegmentationClass and ImageSets/Segmentation)"), r.Split);
        var crop = train ? SegmentationTransforms.RandomScaleCrop((r.ImageSize, r.ImageSize)) : SegmentationTransforms.CenterCrop((r.ImageSize, r.ImageSize));
        IDataset<SegmentationSample> data = new TransformedDataset<SegmentationSample>(voc, crop, new Generator(r.Seed + 2));
        if (r.Count is int n && n < voc.Count) data = new FirstOf<SegmentationSample>(data, n);
        return new(data, r.Name, $"voc {r.Split} ({data.Count} images cropped to {r.ImageSize}x{r.ImageSize})", VocSegmentation.Classes, ImageNetMean, ImageNetStd);
    }

    private sealed class FirstOf<T>(IDataset<T> inner, int count) : Dataset<T>
    {
        public override int Count => count;
        protected override T GetItem(int index) => inner[index];
    }

    private static ClassificationData Classification(TensorDataset data, DatasetRequest r, IReadOnlyList<string> classes, float[] mean, float[] std)
    {
        if (r.Count is int n && n < data.Count)
            data = new TensorDataset(data.Images.Narrow(0, 0, n).Contiguous(), LongTensor.FromArray(data.Labels.ToArray()[..n], n));
        var shape = data.ImageShape;
        return new(data, r.Name, $"{r.Name} {r.Split} ({data.Count} images of {shape[1]}x{shape[2]})", classes, mean, std);
    }
}
