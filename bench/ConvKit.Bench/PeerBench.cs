using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Bench;

/// <summary>
/// Runs the peers with Debian's /usr/bin/python3: shared/peer/peer_bench.py (PyTorch) and tools/bench/peer_sgemm.py
/// (numpy on OpenBLAS), both with OPENBLAS_NUM_THREADS set. They run in lockstep with ConvKit's timings through
/// tools/bench/peer_lockstep.py: when the peer reaches a workload, both sides warm up and then alternate blocks of calls
/// (about 100 ms each, or one call of a longer workload), each block reporting the median of its calls; the ratio is the
/// median over the pairs of blocks. On a shared host whose speed drifts from second to second, the two sides of each
/// ratio are then a tenth of a second apart rather than a pass of the suite.
/// </summary>
internal static class PeerBench
{
    /// <summary>ConvKit's side of one workload, warmed up: <see cref="Block"/> times a block of calls and returns its
    /// median in ms, <see cref="Blocks"/> pairs are run, then <see cref="Done"/> releases the workload.</summary>
    public sealed record OwnSide(Func<double> Block, int Blocks, Action Done);

    /// <summary>The block medians of both sides, in the order they were paired.</summary>
    public sealed record Paired(double[] Ours, double[] Peer);

    /// <summary>
    /// Times the peers; with <paramref name="avx2Only"/> they are held to AVX2 as ConvKit is under DOTNET_EnableAVX512=0
    /// (oneDNN's ONEDNN_MAX_CPU_ISA, ATen's ATEN_CPU_CAPABILITY, OpenBLAS's Haswell kernels): the issue's class of machine.
    /// </summary>
    /// <param name="ready">Called with a row's name (with <see cref="SkylakeXSuffix"/> on those rows) when the peer reaches
    /// it; the caller sets up and warms its own side and returns it, or null where it has none (the peer skips the row).</param>
    public static Dictionary<string, Paired> Run(int threads, bool avx2Only, Func<string, OwnSide?> ready)
    {
        (string, string)[] isa = avx2Only ? Avx2Settings : [];
        var result = new Dictionary<string, Paired>();
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

    /// <summary>The name of ConvKit's workload behind a peer row: the row's name without <see cref="SkylakeXSuffix"/>.</summary>
    public static string OwnName(string row) => row.EndsWith(SkylakeXSuffix, StringComparison.Ordinal) ? row[..^SkylakeXSuffix.Length] : row;

    private static void RunScript(string relative, int threads, (string Name, string Value)[] env, string suffix,
                                  Func<string, OwnSide?> ready, Dictionary<string, Paired> result)
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
        string? LastError() { lock (errors) return errors.ToString().Split('\n').LastOrDefault(l => l.Trim().Length > 0); }
        void Send(string command) { p.StandardInput.WriteLine(command); p.StandardInput.Flush(); }
        string Expect(string word)
        {
            string? reply = p.StandardOutput.ReadLine();
            if (reply is null || !reply.StartsWith(word, StringComparison.Ordinal))
                throw new InvalidOperationException($"{relative} in lockstep: expected '{word}', got '{reply ?? "end of output"}' ({LastError()})");
            return reply[word.Length..].Trim();
        }
        for (string? line; (line = p.StandardOutput.ReadLine()) is not null;)
        {
            if (!line.StartsWith("ready ", StringComparison.Ordinal)) continue; // the script's own table of medians
            string name = line["ready ".Length..].Trim() + suffix;
            // The peer waits on stdin while ConvKit's side sets up and warms, so that side has the machine to itself.
            var own = ready(name);
            if (own is null) { Send("skip"); continue; }
            Send("go");
            Expect("warm");
            var ours = new double[own.Blocks];
            var peer = new double[own.Blocks];
            for (int i = 0; i < own.Blocks; i++)
            {
                // Which side goes first alternates, so a steady drift within a pair favours neither.
                if (i % 2 == 0) ours[i] = own.Block();
                Send("block");
                peer[i] = double.Parse(Expect("block"), CultureInfo.InvariantCulture);
                if (i % 2 == 1) ours[i] = own.Block();
            }
            Send("end");
            own.Done();
            result[name] = new Paired(ours, peer);
        }
        p.WaitForExit();
        if (p.ExitCode != 0) Console.WriteLine($"({relative} failed with exit code {p.ExitCode}: {LastError()})");
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
}
