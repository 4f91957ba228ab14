namespace ConvKit.Data;

/// <summary>
/// Fashion-MNIST (Zalando's 28x28 grey clothing images, 10 classes; <c>torchvision.datasets.FashionMNIST</c>)
/// read from its four IDX files, gzip or plain, as Debian's <c>dataset-fashion-mnist</c> package installs them.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package puts the files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The environment variable naming a directory with the files.</summary>
    public const string EnvironmentVariable = "CONVKIT_FASHION_MNIST";

    /// <summary>Mean of the training images' pixels in [0, 1], for <see cref="TensorDataset.Normalize(float, float)"/>.</summary>
    public const float Mean = 0.2860f;

    /// <summary>Standard deviation of the training images' pixels in [0, 1].</summary>
    public const float Std = 0.3530f;

    /// <summary>The class names by label, as torchvision's <c>FashionMNIST.classes</c>.</summary>
    public static IReadOnlyList<string> Classes { get; } = Array.AsReadOnly(new[]
    {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    });

    /// <summary>
    /// The training split (60,000 samples) or test split (10,000): images [N, 1, 28, 28] scaled to [0, 1]
    /// and labels [N] in 0..9. Looks in <paramref name="directory"/> if given, else in the directory named by
    /// <c>CONVKIT_FASHION_MNIST</c>, else in <see cref="DebianDirectory"/>. Normalize with
    /// <c>.Normalize(FashionMnist.Mean, FashionMnist.Std)</c> as the PyTorch peer does.
    /// </summary>
    /// <exception cref="DatasetNotFoundException">A file is missing; the message says where it was looked for and how to get it.</exception>
    /// <exception cref="DataFormatException">A file is malformed, or images and labels disagree.</exception>
    public static TensorDataset Load(string? directory = null, bool train = true)
    {
        var (dir, origin) = ResolveDirectory(directory);
        string prefix = train ? "train" : "t10k";
        string images = Find(dir, origin, $"{prefix}-images-idx3-ubyte", train);
        string labels = Find(dir, origin, $"{prefix}-labels-idx1-ubyte", train);
        var x = Idx.ReadImages(images);
        var y = Idx.ReadLabels(labels);
        if (x.Size(0) != y.Numel)
            throw new DataFormatException($"Fashion-MNIST: {images} holds {x.Size(0)} images but {labels} holds {y.Numel} labels; expected the same count");
        var bad = y.Span.IndexOfAnyExceptInRange(0L, Classes.Count - 1);
        if (bad >= 0)
            throw new DataFormatException($"Fashion-MNIST: {labels}: label {y.Span[bad]} at index {bad}; expected 0 to {Classes.Count - 1}");
        return new TensorDataset(x, y);
    }

    private static (string Directory, string Origin) ResolveDirectory(string? directory)
    {
        if (directory is not null) return (directory, "the directory argument");
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return (env, $"${EnvironmentVariable}");
        return (DebianDirectory, "the default, Debian's dataset-fashion-mnist location");
    }

    /// <summary>The gzip or plain file of that name in the directory.</summary>
    private static string Find(string directory, string origin, string name, bool train)
    {
        var candidates = new[] { Path.Combine(directory, name + ".gz"), Path.Combine(directory, name) };
        var found = candidates.FirstOrDefault(File.Exists);
        if (found is not null) return found;
        throw new DatasetNotFoundException(
            $"Fashion-MNIST {(train ? "training" : "test")} split: neither {candidates[0]} nor {candidates[1]} exists " +
            $"(looked in {directory}, from {origin}{(Directory.Exists(directory) ? "" : ", which does not exist")}). " +
            $"To fix: install the files with `apt-get install dataset-fashion-mnist` (into {DebianDirectory}), " +
            $"or pass the directory holding {name}.gz to FashionMnist.Load(directory), or set {EnvironmentVariable} to it.",
            candidates[0]);
    }
}
