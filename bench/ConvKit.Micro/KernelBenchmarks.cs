using BenchmarkDotNet.Attributes;

namespace ConvKit.Micro;

/// <summary>The direct kernels and the GEMM on the bench's shapes, each call in a TensorScope as a steady-state loop runs it.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private Tensor _dwX = null!, _dwW = null!, _poolX = null!, _a = null!, _b = null!, _gateX = null!, _gate = null!;

    [GlobalSetup]
    public void Setup()
    {
        using (Generator.Use(new Generator(0)))
        {
            _dwX = Tensor.Randn(1, 32, 112, 112);
            _dwW = Tensor.Randn(32, 1, 3, 3);
            _poolX = Tensor.Randn(8, 64, 112, 112);
            _a = Tensor.Randn(512, 512);
            _b = Tensor.Randn(512, 512);
            _gateX = Tensor.Randn(64, 64, 14, 14);
            _gate = Tensor.Randn(64, 64, 1, 1);
        }
    }

    [Benchmark]
    public float Depthwise3x3()
    {
        using var scope = TensorScope.Begin();
        return F.Conv2d(_dwX, _dwW, padding: 1, groups: 32)[0, 0, 0, 0];
    }

    /// <summary>ResNet's stem pool with indices, as training runs it.</summary>
    [Benchmark]
    public float MaxPool3x3Stride2WithIndices()
    {
        using var scope = TensorScope.Begin();
        return F.MaxPool2dWithIndices(_poolX, 3, 2, 1).Output[0, 0, 0, 0];
    }

    [Benchmark]
    public float Sgemm512()
    {
        using var scope = TensorScope.Begin();
        return _a.Matmul(_b)[0, 0];
    }

    /// <summary>A squeeze-excitation gate on SmallSECnn's second block, forward only.</summary>
    [Benchmark]
    public float ChannelGate()
    {
        using var scope = TensorScope.Begin();
        return (_gateX * _gate)[0, 0, 0, 0];
    }
}
