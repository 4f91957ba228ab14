using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Text.RegularExpressions;

namespace ConvKit.Bench;

/// <summary>
/// Runs the peers with Debian's /usr/bin/python3 and parses their "name   12.34 ms" lines: shared/peer/peer_bench.py
/// (PyTorch) and tools/bench/peer_sgemm.py (numpy on OpenBLAS), both with OPENBLAS_NUM_THREADS set. They run in lockstep
/// with ConvKit's timings through tools/bench/peer_lockstep.py: before the peer times a workload it announces it, the
/// caller times its own workload of that name, and only then does the peer go on. On a shared host whose speed drifts
/// over minutes, the two sides of each ratio are then seconds apart rather than a whole pass of the suite.
/// </summary>
internal static partial class PeerBench
{
    /// <summary>
    /// Times the peers; with <paramref name="avx2Only"/> they are held to AVX2 as ConvKit is under DOTNET_EnableAVX512=0
    /// (oneDNN's ONEDNN_MAX_CPU_ISA, ATen's ATEN_CPU_CAPABILITY, OpenBLAS's Haswell kernels): the issue's class of machine.
    /// </summary>
    /// <param name="ready">Called with a row's name (with <see cref="SkylakeXSuffix"/> on those rows) just before the peer
    /// times it; the caller times its own side then and returns false where it has none, so the peer skips the row.</param>
    public static Dictionary<string, double> Run(int threads, bool avx2Only, Func<string, bool> ready)
    {
        (string, string)[] isa = avx2Only ? Avx2Settings : [];
        var result = new Dictionary<string, double>();
        RunScript(Path.Combine("shared", "peer", "peer_bench.py"), threads, isa, "", ready, result);
        RunScript(Path.Combine("tools", "bench", "peer_sgemm.py"), threads, isa, "", ready, result);
        // OpenBLAS 0.3.21 (Debian 12) predates Zen 5 and runs its Haswell (AVX2) kernels there, half the machine's
        // FMA rate; its AVX-512 kernels, chosen by name, are the fair second row wherever the CPU has AVX-512.
        if (Avx512F.IsSupported && !avx2Only)
            RunScript(Path.Combine("tools", "bench", "peer_sgemm.py"), threads, [("OPENBLAS_CORETYPE", "SkylakeX")], SkylakeXSuffix, ready, result);
        return result;
    }

    /// <summary>The peers' settings that keep them to AVX2 and FMA.</summary>
    public static readonly (string Name, string Value)[] Avx2Settings =
        [("ONEDNN_MAX_CPU_ISA", "AVX2"), ("ATEN_CPU_CAPABILITY", "avx2"), ("OPENBLAS_CORETYPE", "Haswell")];

    /// <summary>Appended to the sgemm rows timed against OpenBLAS's SkylakeX (AVX-512) kernels; ConvKit's side is the row without it.</summary>
    public const string SkylakeXSuffix = " vs OpenBLAS SkylakeX";

    private static void RunScript(string relative, int threads, (string Name, string Value)[] env, string suffix,
                                  Func<string, bool> ready, Dictionary<string, double> result)
    {
        var script = FindScript(relative);
        var driver = FindScript(Path.Combine("tools", "bench", "peer_lockstep.py"));
        if (script is null || driver is null || !File.Exists("/usr/bin/python3"))
        {
            Console.WriteLine($"(peer not run: {relative}, tools/bench/peer_lockstep.py or /usr/bin/python3 not found)");
            return;
        }
        var psi = new ProcessStartInfo("/usr/bin/python3", [driver, script, threads.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // PyTorch's convolutions use oneDNN with torch.set_num_threads; OpenBLAS serves its matrix products and numpy's,
        // so the peer_bench run keeps it at one thread (as the issue states) and the sgemm run gives it the bench's count.
        psi.Environment["OPENBLAS_NUM_THREADS"] = relative.EndsWith("peer_sgemm.py") ? threads.ToString(CultureInfo.InvariantCulture) : "1";
        foreach (var (name, value) in env) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var errors = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        for (string? line; (line = p.StandardOutput.ReadLine()) is not null;)
        {
            if (line.StartsWith("ready ", StringComparison.Ordinal))
            {
                // The peer waits on stdin meanwhile, so ConvKit's side has the machine to itself.
                p.StandardInput.WriteLine(ready(line["ready ".Length..].Trim() + suffix) ? "go" : "skip");
                p.StandardInput.Flush();
            }
            else if (Line().Match(line) is { Success: true } m)
                result[m.Groups[1].Value.Trim() + suffix] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        p.WaitForExit();
        if (p.ExitCode != 0)
            lock (errors)
                Console.WriteLine($"({relative} failed with exit code {p.ExitCode}: {errors.ToString().Split('\n').LastOrDefault(l => l.Trim().Length > 0)})");
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

    [GeneratedRegex(@"^(.+?)\s+([0-9.]+) ms\s*$")]
    private static partial Regex Line();
}
