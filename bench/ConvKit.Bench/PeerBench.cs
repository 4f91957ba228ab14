using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ConvKit.Bench;

/// <summary>Runs shared/peer/peer_bench.py with Debian's /usr/bin/python3 and parses "name   12.34 ms" lines.</summary>
internal static partial class PeerBench
{
    public static Dictionary<string, double> Run(int threads)
    {
        var result = new Dictionary<string, double>();
        var script = FindScript();
        if (script is null || !File.Exists("/usr/bin/python3"))
        {
            Console.WriteLine("(PyTorch peer not run: shared/peer/peer_bench.py or /usr/bin/python3 not found)");
            return result;
        }
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, threads.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string errors = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.WriteLine($"(PyTorch peer failed with exit code {p.ExitCode}: {errors.Split('\n').LastOrDefault(l => l.Length > 0)})");
            return result;
        }
        foreach (Match m in Line().Matches(output))
            result[m.Groups[1].Value.Trim()] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        return result;
    }

    private static string? FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "peer", "peer_bench.py");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    [GeneratedRegex(@"^(.+?)\s+([0-9.]+) ms\s*$", RegexOptions.Multiline)]
    private static partial Regex Line();
}
