using System.Collections;

namespace ConvKit.Nn;

/// <summary>Applies its modules in order (<c>torch.nn.Sequential</c>); children are named "0", "1", ...</summary>
public sealed class Sequential : Module, IEnumerable<Module>
{
    private readonly List<Module> _layers = [];

    public Sequential(params Module[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    /// <summary>Appends a module under the next index name (<c>append</c>).</summary>
    public Sequential Add(Module module)
    {
        RegisterModule(_layers.Count.ToString(), module);
        _layers.Add(module);
        return this;
    }

    /// <summary>Appends a module under an explicit name (<c>add_module</c>).</summary>
    public Sequential Add(string name, Module module)
    {
        RegisterModule(name, module);
        _layers.Add(module);
        return this;
    }

    public Module this[int index] => _layers[index];
    public int Count => _layers.Count;

    /// <summary>Runs the layers in order; in inference, conv → batch norm → ReLU runs are fused (<see cref="InferenceFusion"/>).</summary>
    public override Tensor Forward(Tensor input) => InferenceFusion.Run(_layers, input);

    public IEnumerator<Module> GetEnumerator() => _layers.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Holds modules in a list for registration only (<c>torch.nn.ModuleList</c>); it has no forward.</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items = [];

    public ModuleList(IEnumerable<T> modules)
    {
        foreach (var m in modules) Add(m);
    }

    public ModuleList(params T[] modules) : this((IEnumerable<T>)modules) { }

    public void Add(T module)
    {
        RegisterModule(_items.Count.ToString(), module);
        _items.Add(module);
    }

    public T this[int index] => _items[index];
    public int Count => _items.Count;
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
