using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Text.RegularExpressions;

namespace ConvKit.Bench;

/// <summary>
/// Runs the peers with Debian's /usr/bin/python3 and parses their "name   12.34 ms" lines: shared/peer/peer_bench.py
/// (PyTorch) and tools/bench/peer_sgemm.py (numpy on OpenBLAS), both with OPENBLAS_NUM_THREADS set.
/// </summary>
internal static partial class PeerBench
{
    /// <summary>
    /// Times the peers; with <paramref name="avx2Only"/> they are held to AVX2 as ConvKit is under DOTNET_EnableAVX512=0
    /// (oneDNN's ONEDNN_MAX_CPU_ISA, ATen's ATEN_CPU_CAPABILITY, OpenBLAS's Haswell kernels): the issue's class of machine.
    /// </summary>
    public static Dictionary<string, double> Run(int threads, bool avx2Only = false)
    {
        (string, string)[] isa = avx2Only ? Avx2Settings : [];
        var result = RunScript(Path.Combine("shared", "peer", "peer_bench.py"), threads, isa);
        foreach (var (name, ms) in RunScript(Path.Combine("tools", "bench", "peer_sgemm.py"), threads, isa)) result[name] = ms;
        // OpenBLAS 0.3.21 (Debian 12) predates Zen 5 and runs its Haswell (AVX2) kernels there, half the machine's
        // FMA rate; its AVX-512 kernels, chosen by name, are the fair second row wherever the CPU has AVX-512.
        if (Avx512F.IsSupported && !avx2Only)
            foreach (var (name, ms) in RunScript(Path.Combine("tools", "bench", "peer_sgemm.py"), threads, [("OPENBLAS_CORETYPE", "SkylakeX")]))
                result[name + SkylakeXSuffix] = ms;
        return result;
    }

    /// <summary>The peers' settings that keep them to AVX2 and FMA.</summary>
    public static readonly (string Name, string Value)[] Avx2Settings =
        [("ONEDNN_MAX_CPU_ISA", "AVX2"), ("ATEN_CPU_CAPABILITY", "avx2"), ("OPENBLAS_CORETYPE", "Haswell")];

    /// <summary>Appended to the sgemm rows timed against OpenBLAS's SkylakeX (AVX-512) kernels; ConvKit's side is the row without it.</summary>
    public const string SkylakeXSuffix = " vs OpenBLAS SkylakeX";

    private static Dictionary<string, double> RunScript(string relative, int threads, (string Name, string Value)[] env)
    {
        var result = new Dictionary<string, double>();
        var script = FindScript(relative);
        if (script is null || !File.Exists("/usr/bin/python3"))
        {
            Console.WriteLine($"(peer not run: {relative} or /usr/bin/python3 not found)");
            return result;
        }
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, threads.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // PyTorch's convolutions use oneDNN with torch.set_num_threads; OpenBLAS serves its matrix products and numpy's,
        // so the peer_bench run keeps it at one thread (as the issue states) and the sgemm run gives it the bench's count.
        psi.Environment["OPENBLAS_NUM_THREADS"] = relative.EndsWith("peer_sgemm.py") ? threads.ToString(CultureInfo.InvariantCulture) : "1";
        foreach (var (name, value) in env) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string errors = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.WriteLine($"({relative} failed with exit code {p.ExitCode}: {errors.Split('\n').LastOrDefault(l => l.Length > 0)})");
            return result;
        }
        foreach (Match m in Line().Matches(output))
            result[m.Groups[1].Value.Trim()] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        return result;
    }

    /// <summary>The script at <paramref name="relative"/> under the nearest ancestor of the program's folder that has it.</summary>
    private static string? FindScript(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    [GeneratedRegex(@"^(.+?)\s+([0-9.]+) ms\s*$", RegexOptions.Multiline)]
    private static partial Regex Line();
}
