using ConvKit.Nn;

namespace ConvKit.Onnx;

/// <summary>
/// A module that holds imported initializers under their dotted ONNX names: "layer1.0.conv1.weight" becomes the
/// parameter "weight" of child "layer1" → "0" → "conv1", so the state dict keys equal PyTorch's.
/// </summary>
public class OnnxScope : Module
{
    private readonly Dictionary<string, OnnxScope> _children = new();

    internal OnnxScope() { }

    internal OnnxScope Child(string name)
    {
        if (!_children.TryGetValue(name, out var c)) _children[name] = c = RegisterModule(name, new OnnxScope());
        return c;
    }

    internal void AddParameter(string name, Parameter p) => RegisterParameter(name, p);
    internal void AddBuffer(string name, Tensor t) => RegisterBuffer(name, t);

    /// <summary>Registers under a dotted path, creating the intermediate scopes.</summary>
    internal void Add(string dottedName, Tensor value, bool trainable)
    {
        var parts = dottedName.Split('.');
        var scope = this;
        foreach (var p in parts[..^1]) scope = scope.Child(p);
        if (trainable) scope.AddParameter(parts[^1], (Parameter)value);
        else scope.AddBuffer(parts[^1], value);
    }

    /// <summary>
    /// State-dict keys for the initializer names: the names themselves when they form a tree (no empty segment, no
    /// name that is also the prefix of another), otherwise every '.' replaced by '_'.
    /// </summary>
    internal static Dictionary<string, string> KeysFor(IReadOnlyCollection<string> names)
    {
        var set = names.ToHashSet();
        bool tree = names.All(n => n.Split('.').All(s => s.Length > 0))
            && !names.Any(n => Prefixes(n).Any(set.Contains))
            && !names.SelectMany(Prefixes).ToHashSet().Overlaps(names);
        var keys = names.ToDictionary(n => n, n => tree ? n : n.Replace('.', '_'));
        if (keys.Values.Distinct().Count() != keys.Count)
            throw new OnnxFormatException("ONNX initializer names collide after replacing '.' by '_': " + string.Join(", ", keys.Keys));
        return keys;
    }

    private static IEnumerable<string> Prefixes(string n)
    {
        for (int i = n.IndexOf('.'); i >= 0; i = n.IndexOf('.', i + 1)) yield return n[..i];
    }
}
