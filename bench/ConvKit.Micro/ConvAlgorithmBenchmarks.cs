using BenchmarkDotNet.Attributes;

namespace ConvKit.Micro;

/// <summary>One inference convolution per algorithm the dispatcher can force, on the bench's 3×3 shapes: which wins where.</summary>
[MemoryDiagnoser]
public class ConvAlgorithmBenchmarks
{
    private Tensor _x = null!, _w = null!;

    /// <summary>N, C = K, H = W.</summary>
    [Params("1,64,56", "1,256,14", "1,512,7", "8,64,56", "1,128,28", "1,512,14", "1,128,14", "2,256,14")]
    public string Shape { get; set; } = "";

    [Params(ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Winograd, ConvAlgorithm.Winograd2)]
    public ConvAlgorithm Algorithm { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var s = Shape.Split(',').Select(int.Parse).ToArray();
        using (Generator.Use(new Generator(0)))
        {
            _x = Tensor.Randn(s[0], s[1], s[2], s[2]);
            _w = Tensor.Randn(s[1], s[1], 3, 3);
        }
    }

    [Benchmark]
    public float Conv3x3()
    {
        using var _ = Engine.Force(Algorithm);
        using var noGrad = Autograd.NoGrad();
        using var scope = TensorScope.Begin();
        return F.Conv2d(_x, _w, padding: 1)[0, 0, 0, 0];
    }
}
