using System.Text.Json;
using ConvKit.Nn;
using ConvKit.Optim;

namespace ConvKit.Serialization;

/// <summary>
/// A training checkpoint in one safetensors file: the model's state dict under PyTorch's names (so Python's
/// <c>load_state_dict(load_file(p), strict=False)</c> reads the weights), the optimizer's state tensors under
/// <c>optimizer/&lt;param&gt;/&lt;key&gt;</c>, and in the metadata the optimizer's groups, the scheduler's position,
/// the epoch, the generator state and caller-defined entries (model name, classes, ...). Written atomically, so a
/// run killed at any moment leaves the previous checkpoint whole.
/// </summary>
public static class Checkpoint
{
    private const string OptimizerPrefix = "optimizer/";
    private const string FormatKey = "convkit.checkpoint";
    private const string FormatVersion = "1";

    /// <summary>Writes a checkpoint of <paramref name="model"/> and optionally its training state to <paramref name="path"/>.</summary>
    public static void Save(string path, Module model, int epoch, Optimizer? optimizer = null, LRScheduler? scheduler = null,
        Generator? generator = null, IReadOnlyDictionary<string, string>? info = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = new Dictionary<string, string>(info ?? new Dictionary<string, string>())
        {
            [FormatKey] = FormatVersion,
            ["convkit.epoch"] = epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var tensors = SafeTensors.StateDictEntries(model).ToList();
        if (optimizer is not null)
        {
            var state = optimizer.StateDict();
            metadata["convkit.optimizer"] = optimizer.Name;
            metadata["convkit.optimizer.groups"] = JsonSerializer.Serialize(state.ParamGroups);
            foreach (var (id, entries) in state.State)
                foreach (var (key, t) in entries)
                    tensors.Add(new SafeTensorsEntry($"{OptimizerPrefix}{id}/{key}", t.Shape, t.Data, null));
        }
        if (scheduler is not null) metadata["convkit.scheduler"] = JsonSerializer.Serialize(scheduler.StateDict());
        if (generator is not null) metadata["convkit.rng"] = Convert.ToBase64String(generator.GetState());
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>The checkpoint's metadata (caller entries and ConvKit's own), read from the header only.</summary>
    public static IReadOnlyDictionary<string, string> ReadInfo(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.Metadata;
    }

    /// <summary>
    /// Restores the model (strictly, by name) and, when given, the optimizer, scheduler and generator; returns the
    /// saved epoch. A plain state-dict file (no training state) loads into the model and returns epoch 0; asking it
    /// for optimizer state is an error. Everything is validated before anything but the model changes.
    /// </summary>
    public static int Load(string path, Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, Generator? generator = null)
    {
        using var file = SafeTensorsFile.Open(path);
        var meta = file.Metadata;
        CheckSameModel(file, model);
        SafeTensors.LoadStateDict(file, model, strict: false);
        int epoch = meta.TryGetValue("convkit.epoch", out var e) && int.TryParse(e, out var ep) && ep >= 0 ? ep : 0;
        if (optimizer is not null) optimizer.LoadStateDict(ReadOptimizer(file, optimizer.Name));
        if (scheduler is not null) scheduler.LoadStateDict(Deserialize<SchedulerState>(file, "convkit.scheduler"));
        if (generator is not null)
        {
            if (!meta.TryGetValue("convkit.rng", out var rng)) throw new SafeTensorsException($"{path}: expected a generator state (convkit.rng) in the checkpoint, found none");
            try { generator.SetState(Convert.FromBase64String(rng)); }
            catch (FormatException x) { throw new SafeTensorsException($"{path}: convkit.rng is not base64", x); }
        }
        return epoch;
    }

    /// <summary>Compares names and shapes from the header with the model's, and lists every difference in one message.</summary>
    private static void CheckSameModel(SafeTensorsFile file, Module model)
    {
        var own = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Sizes);
        var saved = file.Entries.Where(t => !t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)).ToDictionary(t => t.Name, t => t.Shape);
        var problems = new List<string>();
        void List(string what, IReadOnlyList<string> keys)
        {
            if (keys.Count > 0) problems.Add($"{what}: {string.Join(", ", keys.Take(8))}{(keys.Count > 8 ? $" and {keys.Count - 8} more" : "")}");
        }
        List("missing key(s)", own.Keys.Where(k => !saved.ContainsKey(k)).ToList());
        List("unexpected key(s)", saved.Keys.Where(k => !own.ContainsKey(k)).ToList());
        List("shape mismatch(es)", own.Where(kv => saved.TryGetValue(kv.Key, out var s) && !ShapeUtil.SameShape(s, kv.Value))
            .Select(kv => $"{kv.Key} (checkpoint {ShapeUtil.Format(saved[kv.Key])}, model {ShapeUtil.Format(kv.Value)})").ToList());
        if (problems.Count > 0)
            throw new ArgumentException($"{file.Path} is a checkpoint of another model than this {model.GetType().Name}: {string.Join("; ", problems)}");
    }

    private static OptimizerState ReadOptimizer(SafeTensorsFile file, string name)
    {
        if (!file.Metadata.TryGetValue("convkit.optimizer", out var saved))
            throw new SafeTensorsException($"{file.Path}: expected optimizer state in the checkpoint, found none (a weights-only file?)");
        if (saved != name) throw new ArgumentException($"{file.Path}: the checkpoint holds {saved} state, the optimizer is {name}");
        var groups = Deserialize<List<ParamGroupState>>(file, "convkit.optimizer.groups");
        var state = new Dictionary<int, IReadOnlyDictionary<string, StateTensor>>();
        foreach (var t in file.Entries.Where(t => t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)))
        {
            var parts = t.Name[OptimizerPrefix.Length..].Split('/');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int id) || id < 0)
                throw new SafeTensorsException($"{file.Path}: expected optimizer tensors named optimizer/<index>/<key>, got '{t.Name}'");
            if (!state.TryGetValue(id, out var d)) state[id] = d = new Dictionary<string, StateTensor>();
            ((Dictionary<string, StateTensor>)d)[parts[1]] = new StateTensor(t.Shape, file.ReadTensor(t.Name).ToArray());
        }
        return new OptimizerState(state, groups);
    }

    private static T Deserialize<T>(SafeTensorsFile file, string key)
    {
        if (!file.Metadata.TryGetValue(key, out var json)) throw new SafeTensorsException($"{file.Path}: expected {key} in the checkpoint's metadata, found none");
        try
        {
            return JsonSerializer.Deserialize<T>(json) ?? throw new SafeTensorsException($"{file.Path}: {key} is null");
        }
        catch (JsonException x)
        {
            throw new SafeTensorsException($"{file.Path}: {key} is not valid: {x.Message}", x);
        }
    }
}
