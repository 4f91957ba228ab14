using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace ConvKit.Serialization;

/// <summary>A tensor to write: float32 data, or int64 data for integer buffers such as <c>num_batches_tracked</c>.</summary>
public readonly record struct SafeTensorsEntry(string Name, int[] Shape, float[]? Floats, long[]? Longs)
{
    public static SafeTensorsEntry Float(string name, Tensor t) => new(name, t.Shape.ToArray(), t.ToArray(), null);
    public static SafeTensorsEntry Long(string name, int[] shape, long[] values) => new(name, shape, null, values);
    internal SafeTensorsDType DType => Longs is null ? SafeTensorsDType.F32 : SafeTensorsDType.I64;
    internal int Numel => Floats?.Length ?? Longs!.Length;
}

/// <summary>
/// Reads and writes safetensors files, and saves or loads a module's state dict with PyTorch's names, so
/// <c>safetensors.torch.load_file</c> + <c>load_state_dict</c> in Python reads what ConvKit wrote, and back.
/// </summary>
public static class SafeTensors
{
    /// <summary>Writes <paramref name="tensors"/> (F32 or I64) and <paramref name="metadata"/> atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<SafeTensorsEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing needs a little-endian CPU");
        var list = tensors.ToList();
        var names = new HashSet<string>();
        foreach (var t in list)
        {
            if (string.IsNullOrEmpty(t.Name) || t.Name == "__metadata__" || !names.Add(t.Name))
                throw new ArgumentException($"SafeTensors.Save: expected unique, non-empty tensor names other than __metadata__, got '{t.Name}'");
            if (ShapeUtil.Numel(t.Shape) != t.Numel)
                throw new ArgumentException($"SafeTensors.Save: tensor '{t.Name}' has shape {ShapeUtil.Format(t.Shape)} but {t.Numel} values");
        }
        var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long at = 0;
            foreach (var t in list)
            {
                long bytes = (long)t.Numel * t.DType.Size();
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType.ToString());
                w.WriteStartArray("shape");
                foreach (var s in t.Shape) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(at);
                w.WriteNumberValue(at + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                at += bytes;
            }
            w.WriteEndObject();
        }
        // The header is space-padded to a multiple of 8 so the data that follows stays aligned, as the reference writer does.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            s.Write(len);
            header.Position = 0;
            header.CopyTo(s);
            foreach (var t in list)
            {
                if (t.Floats is { } f) s.Write(MemoryMarshal.AsBytes(f.AsSpan()));
                else s.Write(MemoryMarshal.AsBytes(t.Longs.AsSpan()));
            }
        });
    }

    /// <summary>
    /// Saves a module's state dict (<c>safetensors.torch.save_file(model.state_dict())</c>): float32 tensors under
    /// PyTorch's dotted names, with <c>num_batches_tracked</c> counters as I64 as PyTorch keeps them.
    /// </summary>
    public static void SaveStateDict(string path, Nn.Module module, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, StateDictEntries(module), metadata);

    /// <summary>The entries <see cref="SaveStateDict"/> writes, for callers that add more tensors to the same file.</summary>
    public static IEnumerable<SafeTensorsEntry> StateDictEntries(Nn.Module module, string prefix = "") =>
        module.StateDict().Select(kv => IsCounter(kv.Key)
            ? SafeTensorsEntry.Long(prefix + kv.Key, kv.Value.Shape.ToArray(), kv.Value.ToArray().Select(v => (long)v).ToArray())
            : SafeTensorsEntry.Float(prefix + kv.Key, kv.Value));

    /// <summary>
    /// Loads the tensors of <paramref name="path"/> whose names start with <paramref name="prefix"/> (prefix removed)
    /// into <paramref name="module"/> by name (<c>load_state_dict</c>); any dtype is converted to float32. With
    /// <paramref name="strict"/> a missing or unexpected key fails; a shape mismatch fails unless
    /// <paramref name="skipMismatched"/>, which leaves those parameters as they are and reports them (fine-tuning
    /// with a different head). All problems are checked against the header and reported together, naming the keys,
    /// before any tensor data is read; tensors are then read and copied one at a time.
    /// </summary>
    public static StateDictLoadResult LoadStateDict(string path, Nn.Module module, bool strict = true, string prefix = "", bool skipMismatched = false)
    {
        using var file = SafeTensorsFile.Open(path);
        return LoadStateDict(file, module, strict, prefix, skipMismatched);
    }

    /// <inheritdoc cref="LoadStateDict(string, Nn.Module, bool, string, bool)"/>
    public static StateDictLoadResult LoadStateDict(SafeTensorsFile file, Nn.Module module, bool strict = true, string prefix = "", bool skipMismatched = false)
    {
        var own = module.StateDict();
        var ownByName = own.ToDictionary(kv => kv.Key, kv => kv.Value);
        var incoming = file.Entries.Where(e => e.Name.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(e => e.Name[prefix.Length..]);
        var missing = own.Where(kv => !incoming.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList();
        var unexpected = incoming.Keys.Where(k => !ownByName.ContainsKey(k)).ToList();
        var mismatched = own.Where(kv => incoming.TryGetValue(kv.Key, out var e) && !ShapeUtil.SameShape(kv.Value.Sizes, e.Shape)).ToList();
        var errors = new List<string>();
        if (strict && unexpected.Count > 0) errors.Add("Unexpected key(s) in state_dict: " + string.Join(", ", unexpected.Select(k => $"\"{k}\"")) + ".");
        if (strict && missing.Count > 0) errors.Add("Missing key(s) in state_dict: " + string.Join(", ", missing.Select(k => $"\"{k}\"")) + ".");
        if (!skipMismatched)
            errors.AddRange(mismatched.Select(kv => $"size mismatch for {kv.Key}: copying a param with shape {ShapeUtil.Format(incoming[kv.Key].Shape)} from checkpoint, the shape in current model is {ShapeUtil.Format(kv.Value.Sizes)}."));
        if (errors.Count > 0)
            throw new ArgumentException($"Error(s) in loading state_dict for {module.GetType().Name} from {file.Path}:\n\t" + string.Join("\n\t", errors));
        var skipped = mismatched.Select(kv => kv.Key).ToHashSet();
        using (Autograd.NoGrad())
            foreach (var (k, target) in own)
                if (incoming.TryGetValue(k, out var e) && !skipped.Contains(k)) target.CopyFrom(file.ReadTensor(e.Name));
        return new StateDictLoadResult(missing, unexpected, mismatched.Select(kv => $"{kv.Key} {ShapeUtil.Format(incoming[kv.Key].Shape)} (model {ShapeUtil.Format(kv.Value.Sizes)})").ToList());
    }

    private static bool IsCounter(string name) => name == "num_batches_tracked" || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal);
}
