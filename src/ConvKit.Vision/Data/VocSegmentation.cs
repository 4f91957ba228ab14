using ConvKit.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Data;

/// <summary>
/// A Pascal VOC-layout segmentation folder (torchvision's <c>VOCSegmentation</c>): <c>JPEGImages/&lt;id&gt;.jpg</c>,
/// <c>SegmentationClass/&lt;id&gt;.png</c> (palette PNG whose indices are class ids, 255 = ignore) and
/// <c>ImageSets/Segmentation/&lt;split&gt;.txt</c> listing the ids. Samples are image [3, H, W] in [0, 1] and mask
/// [H, W]; images differ in size, so batches need a crop (see <see cref="SegmentationTransforms"/>). Files are read on
/// access; an image and mask of different sizes, or a class id beyond <see cref="NumClasses"/> other than 255, is a
/// <see cref="DataFormatException"/> naming the file.
/// </summary>
public sealed class VocSegmentation : Dataset<SegmentationSample>
{
    /// <summary>The 21 classes of VOC 2012 (background and 20 objects).</summary>
    public static IReadOnlyList<string> Classes { get; } = Array.AsReadOnly(new[]
    {
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    });

    private const string Layout = "<root>/JPEGImages/<id>.jpg, <root>/SegmentationClass/<id>.png and <root>/ImageSets/Segmentation/<split>.txt (root may also be a folder holding VOCdevkit/VOC2012)";

    private readonly string[] _ids;

    /// <param name="root">The VOC folder (e.g. VOCdevkit/VOC2012), or a folder that holds VOCdevkit/VOC2012.</param>
    /// <param name="split">The id list to use: ImageSets/Segmentation/&lt;split&gt;.txt ("train", "val", "trainval").</param>
    /// <param name="numClasses">Class ids must lie below this (21 for VOC), apart from 255.</param>
    public VocSegmentation(string root, string split = "train", int numClasses = 21)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        Root = Directory.Exists(Path.Combine(root, "VOCdevkit", "VOC2012")) ? Path.Combine(root, "VOCdevkit", "VOC2012") : root;
        NumClasses = numClasses;
        var list = Path.Combine(Root, "ImageSets", "Segmentation", split + ".txt");
        foreach (var (path, what) in new[] { (Path.Combine(Root, "JPEGImages"), "folder"), (Path.Combine(Root, "SegmentationClass"), "folder"), (list, "file") })
            if (what == "folder" ? !Directory.Exists(path) : !File.Exists(path))
                throw new DatasetNotFoundException($"VOC segmentation data not found: missing {what} {path}; expected the layout {Layout}", path);
        var info = new FileInfo(list);
        if (info.Length > 64 << 20) throw new DataFormatException($"{list}: expected a list of image ids, got a file of {info.Length} bytes");
        _ids = File.ReadAllLines(list).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        foreach (var id in _ids)
            if (id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id.Contains(".."))
                throw new DataFormatException($"{list}: expected image ids (file names without extension), got '{id}'");
    }

    /// <summary>The resolved VOC folder.</summary>
    public string Root { get; }

    public int NumClasses { get; }

    /// <summary>The image ids of the split, in file order.</summary>
    public IReadOnlyList<string> Ids => _ids;

    public override int Count => _ids.Length;

    protected override SegmentationSample GetItem(int index)
    {
        string id = _ids[index];
        string imagePath = Path.Combine(Root, "JPEGImages", id + ".jpg"), maskPath = Path.Combine(Root, "SegmentationClass", id + ".png");
        if (!File.Exists(imagePath)) throw new DatasetNotFoundException($"VOC image {imagePath} listed in the split is missing; expected the layout {Layout}", imagePath);
        if (!File.Exists(maskPath)) throw new DatasetNotFoundException($"VOC mask {maskPath} listed in the split is missing; expected the layout {Layout}", maskPath);
        var image = ImageFile.Read(imagePath);
        var mask = ImageFile.ReadIndexed(maskPath);
        if (image.Width != mask.Width || image.Height != mask.Height)
            throw new DataFormatException($"image {imagePath} is {image.Width}×{image.Height} but its mask {maskPath} is {mask.Width}×{mask.Height}; expected the same size");
        var ids = mask.ToClassIds();
        var values = ids.ToArray();
        for (int i = 0; i < values.Length; i++)
            if (values[i] >= NumClasses && values[i] != SegmentationSample.IgnoreIndex)
                throw new DataFormatException($"mask {maskPath} has class id {values[i]} at row {i / mask.Width}, column {i % mask.Width}; expected ids below {NumClasses} or {SegmentationSample.IgnoreIndex} (ignore)");
        return new SegmentationSample(image.ToTensor(channels: 3), ids);
    }
}
