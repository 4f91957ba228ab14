using ConvKit.Nn;
using ConvKit.Serialization;

namespace ConvKit.Cli;

/// <summary>
/// <c>convkit train --init weights.safetensors</c>: loads a state_dict by PyTorch's names into the freshly built
/// model before training. Strict: every key and shape must match, and an incompatible file is one error listing the
/// keys. Non-strict (fine-tuning with another head): tensors whose shape differs and keys either side lacks are
/// skipped and listed, the rest is loaded.
/// </summary>
internal static class InitWeights
{
    public static void Load(Module model, string path, bool strict)
    {
        var r = SafeTensors.LoadStateDict(path, model, strict, skipMismatched: !strict);
        int total = model.StateDict().Count;
        int loaded = total - r.MissingKeys.Count - r.SkippedKeys.Count;
        Console.WriteLine($"init: {loaded} of {total} tensors loaded from {path}");
        if (r.SkippedKeys.Count > 0) Console.WriteLine($"init: skipped (shape differs): {string.Join(", ", r.SkippedKeys)}");
        if (r.MissingKeys.Count > 0) Console.WriteLine($"init: not in the file (kept as initialised): {string.Join(", ", r.MissingKeys)}");
        if (r.UnexpectedKeys.Count > 0) Console.WriteLine($"init: not in the model (ignored): {string.Join(", ", r.UnexpectedKeys)}");
    }
}
