using System.Globalization;

namespace ConvKit.Kernels.Cpu;

/// <summary>
/// The data-cache sizes of the machine, where the OS reports them (Linux sysfs, cpu0's caches); 0 where it does not,
/// so rules that depend on them fall back to their conservative side.
/// </summary>
internal static class CacheSizes
{
    /// <summary>Bytes of cpu0's level-2 cache (unified or data); 0 when unknown.</summary>
    public static readonly long L2 = Read(2);

    private static long Read(int level)
    {
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(root)) return 0;
            foreach (var dir in Directory.EnumerateDirectories(root, "index*"))
            {
                string Field(string name) => File.ReadAllText(Path.Combine(dir, name)).Trim();
                if (Field("level") != level.ToString(CultureInfo.InvariantCulture) || Field("type") == "Instruction") continue;
                return Parse(Field("size"));
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>sysfs's size field: "1024K", "32M" or a plain byte count; 0 for anything else.</summary>
    internal static long Parse(string size)
    {
        if (size.Length == 0) return 0;
        long unit = char.ToUpperInvariant(size[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        string digits = unit == 1 ? size : size[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n < long.MaxValue / unit ? n * unit : 0;
    }
}
