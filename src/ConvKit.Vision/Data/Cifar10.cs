using System.Numerics.Tensors;
using ConvKit.Data;

namespace ConvKit.Vision.Data;

/// <summary>
/// CIFAR-10 (60,000 32×32 colour images in 10 classes; <c>torchvision.datasets.CIFAR10</c>) read from the
/// binary version's batch files, <c>cifar-10-binary.tar.gz</c> from https://www.cs.toronto.edu/~kriz/cifar.html.
/// Each file is a sequence of 3073-byte records: one label byte 0–9, then 3072 pixel bytes, the red, green and
/// blue 32×32 planes in turn, rows top to bottom. Files are untrusted: sizes and labels are validated before
/// anything large is allocated.
/// </summary>
public static class Cifar10
{
    /// <summary>The folder the archive unpacks to; <see cref="Load"/> also looks inside it.</summary>
    public const string FolderName = "cifar-10-batches-bin";

    /// <summary>Bytes per record: 1 label + 3 × 32 × 32 pixels.</summary>
    public const int RecordBytes = 1 + PixelBytes;

    private const int Side = 32, PixelBytes = 3 * Side * Side;

    /// <summary>The standard class names by label, as torchvision's <c>CIFAR10.classes</c>.</summary>
    public static IReadOnlyList<string> Classes { get; } = Array.AsReadOnly(new[]
    {
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    });

    /// <summary>The training files (<c>data_batch_1.bin</c> … <c>data_batch_5.bin</c>) or the test file (<c>test_batch.bin</c>).</summary>
    public static IReadOnlyList<string> FileNames(bool train) =>
        train ? Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray() : ["test_batch.bin"];

    /// <summary>
    /// The training split (50,000 samples) or test split (10,000) as a dataset of (image [3, 32, 32] in [0, 1],
    /// label 0–9); all images [N, 3, 32, 32] are in <see cref="TensorDataset.Images"/>. <paramref name="root"/> may
    /// hold the batch files itself or a <c>cifar-10-batches-bin</c> folder with them.
    /// </summary>
    /// <exception cref="DatasetNotFoundException">A batch file is missing; the message shows the expected layout.</exception>
    /// <exception cref="DataFormatException">A file's length is not a positive multiple of 3073 bytes or a label is outside 0–9.</exception>
    public static TensorDataset Load(string root, bool train = true)
    {
        var files = FindFiles(root, train);
        long records = 0;
        foreach (var f in files)
        {
            long length = new FileInfo(f).Length;
            if (length == 0 || length % RecordBytes != 0)
                throw new DataFormatException(
                    $"CIFAR-10: {f}: expected a positive multiple of {RecordBytes} bytes (1 label byte + {PixelBytes} pixel bytes per image), got {length} bytes" +
                    (length % RecordBytes != 0 ? $" ({length / RecordBytes} whole records and {length % RecordBytes} bytes left over: a truncated or foreign file)" : ""));
            records += length / RecordBytes;
        }
        if (records * PixelBytes > Array.MaxLength)
            throw new DataFormatException($"CIFAR-10: {string.Join(", ", files)} hold {records} images; expected at most {Array.MaxLength / PixelBytes} in one split");

        var pixels = GC.AllocateUninitializedArray<float>((int)(records * PixelBytes));
        var labels = new long[records];
        int n = 0;
        foreach (var f in files) n = Decode(f, pixels, labels, n);
        TensorPrimitives.Divide(pixels, 255f, pixels);
        return new TensorDataset(new Tensor(pixels, [(int)records, 3, Side, Side]), new LongTensor(labels, [(int)records]));
    }

    /// <summary>
    /// The class names from <c>batches.meta.txt</c> (one a line, blank lines ignored) next to the batch files,
    /// or <see cref="Classes"/> when that file is absent.
    /// </summary>
    /// <exception cref="DataFormatException">The file does not name exactly 10 classes.</exception>
    public static IReadOnlyList<string> ClassNames(string root)
    {
        var folder = Folder(root, FileNames(train: false)[0]) ?? Folder(root, "batches.meta.txt");
        var meta = folder is null ? null : Path.Combine(folder, "batches.meta.txt");
        if (meta is null || !File.Exists(meta)) return Classes;
        if (new FileInfo(meta).Length > 1 << 16)
            throw new DataFormatException($"CIFAR-10: {meta}: expected a small text file of 10 class names, got {new FileInfo(meta).Length} bytes");
        var names = File.ReadAllLines(meta).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != Classes.Count)
            throw new DataFormatException($"CIFAR-10: {meta}: expected {Classes.Count} class names, one a line, got {names.Length}");
        return Array.AsReadOnly(names);
    }

    /// <summary>Decodes the records of one file into <paramref name="pixels"/> (raw bytes as floats) and labels from record <paramref name="at"/>.</summary>
    private static int Decode(string file, float[] pixels, long[] labels, int at)
    {
        var bytes = File.ReadAllBytes(file);
        if (bytes.Length % RecordBytes != 0)
            throw new DataFormatException($"CIFAR-10: {file}: changed while being read; expected a multiple of {RecordBytes} bytes, got {bytes.Length}");
        for (int r = 0; r < bytes.Length / RecordBytes; r++, at++)
        {
            var record = bytes.AsSpan(r * RecordBytes, RecordBytes);
            if (record[0] >= Classes.Count)
                throw new DataFormatException($"CIFAR-10: {file}: record {r} (byte offset {(long)r * RecordBytes}) has label {record[0]}; expected 0 to {Classes.Count - 1}");
            labels[at] = record[0];
            TensorPrimitives.ConvertChecked<byte, float>(record[1..], pixels.AsSpan(at * PixelBytes, PixelBytes));
        }
        return at;
    }

    /// <summary><paramref name="root"/> or its <see cref="FolderName"/> subfolder, whichever holds <paramref name="file"/>; null if neither.</summary>
    private static string? Folder(string root, string file) =>
        new[] { root, Path.Combine(root, FolderName) }.FirstOrDefault(d => File.Exists(Path.Combine(d, file)));

    private static string[] FindFiles(string root, bool train)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        var names = FileNames(train);
        var folder = Folder(root, names[0]);
        var missing = folder is null ? names[0] : names.FirstOrDefault(n => !File.Exists(Path.Combine(folder, n)));
        if (missing is null) return names.Select(n => Path.Combine(folder!, n)).ToArray();
        string where = folder ?? $"{root} or {Path.Combine(root, FolderName)}";
        throw new DatasetNotFoundException(
            $"CIFAR-10 {(train ? "training" : "test")} split: {missing} was not found in {where}" +
            $"{(Directory.Exists(root) ? "" : $" ({root} does not exist)")}. Expected the binary version " +
            $"(cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html) unpacked as:{Environment.NewLine}" +
            $"  {root}/{FolderName}/{Environment.NewLine}" +
            $"    data_batch_1.bin … data_batch_5.bin   training, 10000 records of {RecordBytes} bytes each{Environment.NewLine}" +
            $"    test_batch.bin                        test, 10000 records{Environment.NewLine}" +
            $"    batches.meta.txt                      class names, one a line (optional){Environment.NewLine}" +
            $"(the batch files may also sit directly in {root}).",
            Path.Combine(folder ?? root, missing));
    }
}
