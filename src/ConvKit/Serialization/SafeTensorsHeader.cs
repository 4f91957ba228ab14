using System.Text.Json;

namespace ConvKit.Serialization;

/// <summary>One tensor of a safetensors file: its name, element type, shape and byte range within the data section.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, int[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (product of <see cref="Shape"/>; 1 for a 0-dim tensor).</summary>
    public int Numel => ShapeUtil.Numel(Shape);
}

/// <summary>
/// Parses and validates a safetensors header (the JSON after the 8-byte length): every entry's dtype and shape,
/// offsets that tile the data section exactly (in range, contiguous, non-overlapping), byte lengths equal to
/// dtype size × element count, unique names, a string-to-string (or null) <c>__metadata__</c>, and the spec's
/// rule that the header begins with '{' (trailing space padding is allowed).
/// </summary>
internal static class SafeTensorsHeader
{
    /// <summary>The format's own bound on the header size (the reference implementation's 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static (List<SafeTensorInfo> Entries, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> json, long dataLength, string file)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new SafeTensorsException($"{file}: expected a UTF-8 JSON header, got invalid UTF-8");
        // The spec: the header MUST begin with '{' and MAY be padded at the end with spaces (the reference reader's InvalidHeaderStart).
        if (json.IsEmpty || json[0] != (byte)'{')
            throw new SafeTensorsException($"{file}: expected the header to begin with '{{', got {(json.IsEmpty ? "an empty header" : $"byte 0x{json[0]:X2}")}");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException($"{file}: expected a JSON header, got invalid JSON ({e.Message})", e);
        }
        using (doc)
        {
            try
            {
                return Read(doc.RootElement, dataLength, file);
            }
            catch (InvalidOperationException e)
            {
                // System.Text.Json parses "\ud800" but cannot unescape it to a string; serde_json rejects it outright.
                throw new SafeTensorsException($"{file}: expected JSON strings of valid unicode, got {e.Message}", e);
            }
        }
    }

    private static (List<SafeTensorInfo>, Dictionary<string, string>) Read(JsonElement root, long dataLength, string file)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsException($"{file}: expected the header to be a JSON object, got {root.ValueKind}");
        var entries = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>();
        var names = new HashSet<string>();
        foreach (var prop in root.EnumerateObject())
        {
            if (!names.Add(prop.Name)) throw new SafeTensorsException($"{file}: expected unique tensor names, got '{prop.Name}' twice");
            if (prop.Name == "__metadata__") ReadMetadata(prop.Value, metadata, file);
            else entries.Add(ReadEntry(prop.Name, prop.Value, file));
        }
        CheckLayout(entries, dataLength, file);
        return (entries, metadata);
    }

    private static void ReadMetadata(JsonElement e, Dictionary<string, string> into, string file)
    {
        if (e.ValueKind == JsonValueKind.Null) return;
        if (e.ValueKind != JsonValueKind.Object) throw new SafeTensorsException($"{file}: expected __metadata__ to be an object of strings, got {e.ValueKind}");
        foreach (var kv in e.EnumerateObject())
        {
            if (kv.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsException($"{file}: expected __metadata__ value '{kv.Name}' to be a string, got {kv.Value.ValueKind}");
            into[kv.Name] = kv.Value.GetString()!;
        }
    }

    private static SafeTensorInfo ReadEntry(string name, JsonElement e, string file)
    {
        string what = $"{file}: tensor '{name}'";
        if (e.ValueKind != JsonValueKind.Object) throw new SafeTensorsException($"{what}: expected an object with dtype, shape and data_offsets, got {e.ValueKind}");
        if (!e.TryGetProperty("dtype", out var d) || d.ValueKind != JsonValueKind.String || !SafeTensorsDTypes.TryParse(d.GetString(), out var dtype))
            throw new SafeTensorsException($"{what}: expected dtype one of {string.Join(", ", Enum.GetNames<SafeTensorsDType>())}, got {(e.TryGetProperty("dtype", out d) ? Clip(d) : "none")}");
        if (!e.TryGetProperty("shape", out var s) || s.ValueKind != JsonValueKind.Array || s.GetArrayLength() > 16)
            throw new SafeTensorsException($"{what}: expected shape to be an array of at most 16 sizes");
        var shape = new int[s.GetArrayLength()];
        long numel = 1;
        int i = 0;
        foreach (var v in s.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out shape[i]) || shape[i] < 0)
                throw new SafeTensorsException($"{what}: expected non-negative int32 sizes in shape, got {Clip(s)}");
            numel *= shape[i++];
            if (numel > int.MaxValue) throw new SafeTensorsException($"{what}: shape {Clip(s)} has more than {int.MaxValue} elements");
        }
        if (!e.TryGetProperty("data_offsets", out var o) || o.ValueKind != JsonValueKind.Array || o.GetArrayLength() != 2
            || !TryGetOffset(o[0], out long begin) || !TryGetOffset(o[1], out long end) || end < begin)
            throw new SafeTensorsException($"{what}: expected data_offsets [begin, end] of integers with 0 <= begin <= end, got {(e.TryGetProperty("data_offsets", out o) ? Clip(o) : "none")}");
        if (end - begin != numel * dtype.Size())
            throw new SafeTensorsException($"{what}: {dtype} {ShapeUtil.Format(shape)} needs {numel * dtype.Size()} bytes, data_offsets [{begin}, {end}] give {end - begin}");
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static bool TryGetOffset(JsonElement e, out long value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value) && value >= 0;
    }

    /// <summary>The JSON of <paramref name="e"/> for an error message, cut to 80 characters (a header may hold 100 MB).</summary>
    private static string Clip(JsonElement e)
    {
        var text = e.GetRawText();
        return text.Length <= 80 ? text : text[..80] + $"... ({text.Length} characters)";
    }

    private static void CheckLayout(List<SafeTensorInfo> entries, long dataLength, string file)
    {
        long at = 0;
        foreach (var t in entries.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin != at)
                throw new SafeTensorsException(t.Begin < at
                    ? $"{file}: tensor '{t.Name}' at bytes [{t.Begin}, {t.End}) overlaps the previous tensor, which ends at {at}"
                    : $"{file}: expected tensor data to be contiguous, but bytes [{at}, {t.Begin}) before tensor '{t.Name}' belong to no tensor");
            at = t.End;
        }
        if (at != dataLength)
            throw new SafeTensorsException(at > dataLength
                ? $"{file}: tensor data ends at byte {at}, but the data section has only {dataLength} bytes (truncated file?)"
                : $"{file}: expected the tensors to cover the data section, but {dataLength - at} trailing bytes belong to no tensor");
    }
}
