// ConvKit.Bench: times the reference workloads in C# and, when Debian's python3-torch is installed, runs
// shared/peer/peer_bench.py in the same invocation, then prints ConvKit and PyTorch medians with their ratio.
// Usage: dotnet run -c Release --project bench/ConvKit.Bench [-- --threads N] [--no-peer] [--only TEXT]
// --only runs the workloads whose name contains TEXT (the peers still run whole: their scripts take no filter).
using System.Diagnostics;
using System.Globalization;
using ConvKit;
using ConvKit.Bench;

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
int threads = Option("--threads") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : Environment.ProcessorCount;
string? only = Option("--only");
bool peer = !args.Contains("--no-peer");
Engine.Threads = threads;

double peak = FmaPeak.Measure(threads);
Console.WriteLine($"ConvKit.Bench  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  threads {threads}  FMA peak {peak:F1} GFLOP/s");

var ours = new Dictionary<string, (double Ms, double Flops)>();
foreach (var w in Workloads.All(only))
{
    var run = w.Setup();
    for (int i = 0; i < w.Warmup; i++) run();
    // Steady state, as a long-running process sees it: keep warming until a gen-0 collection has recycled the heap,
    // so the timed runs write into memory the process already owns instead of faulting in fresh pages (PyTorch's
    // caching allocator reaches that state on its first iterations). Capped at 3 s per workload.
    var warm = Stopwatch.StartNew();
    for (int gc0 = GC.CollectionCount(0); GC.CollectionCount(0) == gc0 && warm.Elapsed.TotalSeconds < 3;) run();
    var times = new List<double>();
    for (int i = 0; i < w.Repeats; i++)
    {
        var sw = Stopwatch.StartNew();
        run();
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    ours[w.Name] = (times[times.Count / 2], w.Flops);
    Console.Error.WriteLine($"  {w.Name}: {ours[w.Name].Ms:F2} ms (runs {string.Join(", ", times.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))})");
    run = null;
    GC.Collect();
}

var torch = peer ? PeerBench.Run(threads) : new Dictionary<string, double>();
Console.WriteLine($"| {"workload",-44} | {"ConvKit ms",10} | {"peer ms",10} | {"peer/ConvKit",15} | {"GFLOP/s",8} | {"% peak",6} |");
Console.WriteLine($"|{new string('-', 46)}|{new string('-', 12)}|{new string('-', 12)}|{new string('-', 17)}|{new string('-', 10)}|{new string('-', 8)}|");
foreach (var name in ours.Keys.Union(only is null ? torch.Keys : []))
{
    string Fmt(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
    bool haveOurs = ours.TryGetValue(name, out var o);
    bool haveTorch = torch.TryGetValue(name, out var tm);
    double gflops = haveOurs && o.Flops > 0 ? o.Flops / (o.Ms * 1e6) : double.NaN;
    Console.WriteLine($"| {name,-44} | {(haveOurs ? Fmt(o.Ms) : "n/a"),10} | {(haveTorch ? Fmt(tm) : "n/a"),10} | " +
                      $"{(haveOurs && haveTorch ? Fmt(tm / o.Ms) + "x" : "n/a"),15} | {(double.IsNaN(gflops) ? "" : Fmt(gflops)),8} | " +
                      $"{(double.IsNaN(gflops) ? "" : (100 * gflops / peak).ToString("F0", CultureInfo.InvariantCulture)),6} |");
}
