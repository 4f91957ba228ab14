using BenchmarkDotNet.Running;

// Kernel micro-benchmarks under BenchmarkDotNet, which repeats each case until its confidence interval is tight
// and reports outliers: the tool for A/B decisions between two kernels on this noisy host. The PyTorch comparison
// lives in bench/ConvKit.Bench. Usage: dotnet run -c Release --project bench/ConvKit.Micro -- --filter '*Depthwise*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
