// ConvKit.Bench: times the reference workloads in C# and, when Debian's python3-torch is installed, runs
// shared/peer/peer_bench.py in the same invocation, then prints ConvKit and PyTorch medians with their ratio.
// Usage: dotnet run -c Release --project bench/ConvKit.Bench [-- --threads N] [--no-peer] [--only TEXT] [--rounds R]
// The peers run in lockstep with ConvKit (PeerBench): per workload, the two sides alternate blocks of calls.
// --only runs the workloads whose name contains TEXT (the peers skip the others).
// --rounds R runs the whole lockstep pass R times and reports medians over the rounds.
// --isa avx2 holds ConvKit and the peers to AVX2 + FMA (the issue's class of machine) on a host with AVX-512.
// --ab SWITCH [--budget MS] runs a paired in-process A/B of that engine switch (PairedAb.Switches lists them) instead
// (no peer; MS per workload, default 4000): see PairedAb.
// --phases [--algo ALGORITHM] [--pass forward|data|weight] times the forward, data gradient and weight gradient of training-mode 3×3 convs on their
// own (then with ALGORITHM forced); tools/bench/peer_phases.py times PyTorch's.
using System.Diagnostics;
using System.Globalization;
using ConvKit;
using ConvKit.Bench;

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
bool avx2Only = Option("--isa") switch
{
    null => false,
    "avx2" => true,
    var other => throw new ArgumentException($"--isa: expected avx2, got '{other}'"),
};
// The issue's class of machine is AVX2 + FMA: on an AVX-512 host, --isa avx2 reruns the bench with the runtime's
// AVX-512 turned off (a setting read at start-up only) and the peers held to AVX2 (PeerBench.Avx2Settings).
if (avx2Only && System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return Avx2Only.Rerun(args);
int threads = Option("--threads") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : Environment.ProcessorCount;
string? only = Option("--only");
bool peer = !args.Contains("--no-peer");
Engine.Threads = threads;

if (Option("--ab") is { } ab)
{
    PairedAb.Run(ab, only, Option("--budget") is { } ms ? double.Parse(ms, CultureInfo.InvariantCulture) : 4000);
    return 0;
}

if (args.Contains("--phases"))
{
    Phases.Run(only, Option("--pass"), Option("--budget") is { } ms ? double.Parse(ms, CultureInfo.InvariantCulture) : 3000,
               Option("--algo") is { } algo ? Enum.Parse<ConvAlgorithm>(algo, ignoreCase: true) : null);
    return 0;
}

int rounds = Option("--rounds") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : 1;

// Each round runs the peers in lockstep (PeerBench): as a peer reaches a workload, ConvKit sets up and warms its own of
// that name, the peer warms up, and the two alternate blocks of calls of about 100 ms; a round's ratio for the workload
// is the median of the pairs' ratios. Workloads the peers do not have are timed after them, on their own. The table
// gives the median over rounds of each side and of the per-round ratios.
var peaks = new List<double>();
var oursByRound = new List<Dictionary<string, (double Ms, double Flops)>>();
var torchByRound = new List<Dictionary<string, double>>();
var ratiosByRound = new List<Dictionary<string, double>>();
var workloads = Workloads.All(only).ToDictionary(w => w.Name);
for (int round = 0; round < rounds; round++)
{
    double peak = FmaPeak.Measure(threads);
    peaks.Add(peak);
    Console.WriteLine($"ConvKit.Bench  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  threads {threads}  FMA peak {peak:F1} GFLOP/s ({(FmaPeak.Wide ? 512 : 256)}-bit)"
                      + (avx2Only ? "  AVX2 only (ConvKit and peers)" : "")
                      + (rounds > 1 ? $"  round {round + 1} of {rounds}" : ""));
    var ours = new Dictionary<string, (double Ms, double Flops)>();
    var torch = new Dictionary<string, double>();
    var ratios = new Dictionary<string, double>();
    // The rows against OpenBLAS's SkylakeX kernels time ConvKit's plain sgemm again, paired with them.
    PeerBench.OwnSide? Ready(string name)
    {
        if (!workloads.TryGetValue(PeerBench.OwnName(name), out var w)) return null;
        Action? run = w.Setup();
        double perCall = Warm(run, w);
        int calls = Math.Max(1, (int)(100 / Math.Max(perCall, 1e-3)));
        return new(() => Block(run!, calls), w.Repeats, () => { run = null; GC.Collect(); });
    }
    if (peer)
        foreach (var (name, pairs) in PeerBench.Run(threads, avx2Only, Ready))
        {
            ours[name] = (Median(pairs.Ours), workloads[PeerBench.OwnName(name)].Flops);
            torch[name] = Median(pairs.Peer);
            ratios[name] = Median(pairs.Peer.Zip(pairs.Ours, (a, b) => a / b));
            Console.Error.WriteLine($"  {name}: ConvKit {ours[name].Ms:F2} ms, peer {torch[name]:F2} ms, ratio {ratios[name]:F2} " +
                                    $"(pairs {string.Join(" ", pairs.Peer.Zip(pairs.Ours, (a, b) => (a / b).ToString("F2", CultureInfo.InvariantCulture)))})");
        }
    foreach (var w in workloads.Values.Where(w => !ours.ContainsKey(w.Name))) ours[w.Name] = TimeOne(w);
    oursByRound.Add(ours);
    torchByRound.Add(torch);
    ratiosByRound.Add(ratios);
}

// Steady state, as a long-running process sees it: the workload's warm-up calls, then more until a gen-0 collection
// has recycled the heap, so the timed runs write into memory the process already owns instead of faulting in fresh
// pages (PyTorch's caching allocator reaches that state on its first iterations); capped at 3 s. Returns the last
// call's time in ms.
static double Warm(Action run, Workloads.Workload w)
{
    for (int i = 0; i < w.Warmup; i++) run();
    var warm = Stopwatch.StartNew();
    for (int gc0 = GC.CollectionCount(0); GC.CollectionCount(0) == gc0 && warm.Elapsed.TotalSeconds < 3;) run();
    long t0 = Stopwatch.GetTimestamp();
    run();
    return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
}

// The median time in ms of a block of calls.
static double Block(Action run, int calls)
{
    var times = new double[calls];
    for (int i = 0; i < calls; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        run();
        times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }
    return Median(times);
}

// A workload no peer has (or every workload without the peers): its repeats, timed on their own.
(double Ms, double Flops) TimeOne(Workloads.Workload w)
{
    Action? run = w.Setup();
    Warm(run, w);
    var times = new List<double>();
    for (int i = 0; i < w.Repeats; i++) times.Add(Block(run, 1));
    times.Sort();
    Console.Error.WriteLine($"  {w.Name}: {times[times.Count / 2]:F2} ms (runs {string.Join(", ", times.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))})");
    run = null;
    GC.Collect();
    return (times[times.Count / 2], w.Flops);
}

static double Median(IEnumerable<double> values)
{
    var v = values.OrderBy(x => x).ToArray();
    return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
}

string Fmt(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F2", CultureInfo.InvariantCulture);
double medianPeak = Median(peaks);
if (rounds > 1) Console.WriteLine($"Medians over {rounds} rounds (FMA peak {medianPeak:F1} GFLOP/s; per round {string.Join(", ", peaks.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))})");
Console.WriteLine($"| {"workload",-44} | {"ConvKit ms",10} | {"peer ms",10} | {"peer/ConvKit",15} | {"GFLOP/s",8} | {"% peak",6} |" + (rounds > 1 ? " ratio per round |" : ""));
Console.WriteLine($"|{new string('-', 46)}|{new string('-', 12)}|{new string('-', 12)}|{new string('-', 17)}|{new string('-', 10)}|{new string('-', 8)}|" + (rounds > 1 ? "-----------------|" : ""));
var names = oursByRound.SelectMany(o => o.Keys).Union(torchByRound.SelectMany(t => t.Keys)).Distinct()
                       .Where(n => workloads.ContainsKey(PeerBench.OwnName(n)));
foreach (var name in names)
{
    // A SkylakeX row has ConvKit's own timing paired with it; without the peer it falls back to the plain sgemm row's.
    string own = oursByRound.Any(o => o.ContainsKey(name)) ? name : PeerBench.OwnName(name);
    var ours = oursByRound.Where(o => o.ContainsKey(own)).Select(o => o[own]).ToArray();
    var torch = torchByRound.Where(t => t.ContainsKey(name)).Select(t => t[name]).ToArray();
    var ratios = ratiosByRound.Where(r => r.ContainsKey(name)).Select(r => r[name]).ToArray();
    double ms = Median(ours.Select(o => o.Ms)), flops = ours.Length > 0 ? ours[0].Flops : 0;
    double gflops = flops > 0 ? flops / (ms * 1e6) : double.NaN;
    Console.WriteLine($"| {name,-44} | {Fmt(ms),10} | {Fmt(Median(torch)),10} | {(ratios.Length > 0 ? Fmt(Median(ratios)) + "x" : "n/a"),15} | " +
                      $"{(double.IsNaN(gflops) ? "" : Fmt(gflops)),8} | {(double.IsNaN(gflops) ? "" : (100 * gflops / medianPeak).ToString("F0", CultureInfo.InvariantCulture)),6} |" +
                      (rounds > 1 ? $" {string.Join(" ", ratios.Select(v => v.ToString("F2", CultureInfo.InvariantCulture))),15} |" : ""));
}
return 0;
