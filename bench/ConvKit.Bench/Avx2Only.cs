using System.Diagnostics;

namespace ConvKit.Bench;

/// <summary>
/// Reruns the bench in a child process whose runtime has AVX-512 turned off (DOTNET_EnableAVX512=0, read only at
/// start-up), so ConvKit's GEMM and packing take their AVX2 + FMA paths, as on the 2-core AVX2 machines the issue
/// targets; the child holds the peers to AVX2 too (<see cref="PeerBench.Avx2Settings"/>).
/// </summary>
internal static class Avx2Only
{
    public static int Rerun(string[] args)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("--isa avx2: the bench's own executable is unknown");
        var psi = new ProcessStartInfo(host);
        // Under `dotnet ConvKit.Bench.dll` the host is dotnet and the program its first argument; under the apphost, itself.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") psi.ArgumentList.Add(typeof(Avx2Only).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_EnableAVX512"] = "0";
        using var child = Process.Start(psi)!;
        child.WaitForExit();
        return child.ExitCode;
    }
}
