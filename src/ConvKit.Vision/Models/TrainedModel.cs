using System.Globalization;
using ConvKit.Nn;
using ConvKit.Serialization;

namespace ConvKit.Vision.Models;

/// <summary>
/// A model together with what is needed to run it on images: its registry name, input channels, classes, class
/// names and the normalisation its training used. Saved as checkpoint metadata, so <see cref="Load"/> rebuilds the
/// model from a checkpoint or weights file alone.
/// </summary>
public sealed record TrainedModel(Module Module, ModelSpec Spec, int InChannels, int NumClasses, IReadOnlyList<string> ClassNames,
    float[] Mean, float[] Std)
{
    /// <summary>The metadata entries that describe this model (written into every checkpoint).</summary>
    public IReadOnlyDictionary<string, string> Info() => new Dictionary<string, string>
    {
        ["convkit.model"] = Spec.Name,
        ["convkit.in_channels"] = InChannels.ToString(CultureInfo.InvariantCulture),
        ["convkit.num_classes"] = NumClasses.ToString(CultureInfo.InvariantCulture),
        ["convkit.class_names"] = string.Join("\n", ClassNames),
        ["convkit.mean"] = string.Join(",", Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        ["convkit.std"] = string.Join(",", Std.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
    };

    /// <summary>Builds a fresh model of <paramref name="spec"/> (initialised from <see cref="Generator.Current"/>).</summary>
    public static TrainedModel Create(ModelSpec spec, int inChannels, int numClasses, IReadOnlyList<string>? classNames = null, float[]? mean = null, float[]? std = null)
    {
        if (classNames is not null && classNames.Count != numClasses)
            throw new ArgumentException($"expected {numClasses} class names, got {classNames.Count}");
        return new(spec.Create(inChannels, numClasses), spec, inChannels, numClasses,
            classNames ?? Enumerable.Range(0, numClasses).Select(i => $"class {i}").ToArray(),
            mean ?? new float[inChannels], std ?? Enumerable.Repeat(1f, inChannels).ToArray());
    }

    /// <summary>
    /// Rebuilds the model a checkpoint (or weights file written by <c>convkit train</c>) belongs to and loads its
    /// weights; a file without ConvKit's model metadata, or whose tensors do not fit the model, is an error saying so.
    /// </summary>
    public static TrainedModel Load(string path)
    {
        var meta = Checkpoint.ReadInfo(path);
        string Need(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new ArgumentException($"{path}: expected a checkpoint written by convkit train (metadata '{key}'), found none; pass --model for plain weights files");
        var spec = ModelRegistry.Get(Need("convkit.model"));
        int c = ParseCount(Need("convkit.in_channels"), "convkit.in_channels", path), k = ParseCount(Need("convkit.num_classes"), "convkit.num_classes", path);
        var names = meta.TryGetValue("convkit.class_names", out var n) ? n.Split('\n') : null;
        var model = Create(spec, c, k, names?.Length == k ? names : null, Floats(meta, "convkit.mean", c, path), Floats(meta, "convkit.std", c, path));
        Checkpoint.Load(path, model.Module);
        model.Module.Eval();
        return model;
    }

    /// <summary>Normalises an image [C, H, W] or batch [N, C, H, W] with values in [0, 1] by the model's mean and std.</summary>
    public Tensor Normalize(Tensor image)
    {
        if (image.Dim < 3 || image.Sizes[^3] != InChannels)
            throw new ArgumentException($"{Spec.Name} expects images [{InChannels}, H, W], got {ShapeUtil.Format(image.Sizes)}");
        return ConvKit.Data.Transforms.Normalize(Mean, Std)(image, Generator.Current);
    }

    private static int ParseCount(string s, string key, string path) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is > 0 and <= 100_000 ? v
        : throw new ArgumentException($"{path}: expected {key} to be a positive count, got '{s}'");

    private static float[]? Floats(IReadOnlyDictionary<string, string> meta, string key, int count, string path)
    {
        if (!meta.TryGetValue(key, out var s)) return null;
        var parts = s.Split(',');
        var v = new float[parts.Length];
        if (parts.Length != count || parts.Where((p, i) => !float.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out v[i])).Any())
            throw new ArgumentException($"{path}: expected {key} to hold {count} numbers, got '{s}'");
        return v;
    }
}
