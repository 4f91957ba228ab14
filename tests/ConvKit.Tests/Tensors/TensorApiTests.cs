using Xunit;

namespace ConvKit.Tests.Tensors;

public class TensorApiTests
{
    [Fact]
    public void GeneratorReproducesTorchManualSeedStreams()
    {
        // torch.manual_seed(0); torch.rand(5) / torch.randn(5) / torch.randn(20), printed by Debian's PyTorch 1.13.
        TestUtil.Close([0.49625658988952637f, 0.7682217955589294f, 0.08847743272781372f, 0.13203048706054688f, 0.30742281675338745f],
            Tensor.Rand([5], new Generator(0)).ToArray(), 0);
        TestUtil.Close([1.5409960746765137f, -0.293428897857666f, -2.1787893772125244f, 0.5684312582015991f, -1.0845223665237427f],
            Tensor.Randn([5], new Generator(0)).ToArray(), 1e-6);
        TestUtil.Close([-1.1258398294448853f, -1.152360200881958f, -0.2505785822868347f, -0.4338788092136383f, 0.5988394618034363f,
                        -1.5550950765609741f, -0.3413603901863098f, 1.85300612449646f, 0.46809640526771545f, -0.1577124446630478f,
                        1.4436601400375366f, 0.26604941487312317f, 1.3893661499023438f, 1.586334228515625f, 0.946298360824585f,
                        -0.843676745891571f, 0.9318265914916992f, 1.2590092420578003f, 2.0049805641174316f, 0.05373690277338028f],
            Tensor.Randn([20], new Generator(0)).ToArray(), 1e-6);
        var g = new Generator(42);
        TestUtil.Close([0.8822692632675171f, 0.9150039553642273f, 0.38286375999450684f], Tensor.Rand([3], g).ToArray(), 0);
        TestUtil.Close([-0.829319179058075f, -1.6137069463729858f, -0.21470452845096588f], Tensor.Randn([3], g).ToArray(), 1e-6);
    }

    [Fact]
    public void ToStringPrintsLikePyTorch()
    {
        Assert.Equal("tensor([[1., 2.],\n        [3., 4.]])", Tensor.FromArray([1, 2, 3, 4], 2, 2).ToString());
        Assert.Equal("tensor([[ 1.5000,  2.2500],\n        [-3.0000,  4.0000]])", Tensor.FromArray([1.5f, 2.25f, -3, 4], 2, 2).ToString());
        Assert.Equal("tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])", Tensor.FromArray([1e-5f, 1, 1000], 3).ToString());
        Assert.Equal("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])", Tensor.Arange(2000).ToString());
        Assert.Equal("tensor(3.)", Tensor.Scalar(3).ToString());
        Assert.Equal("tensor([1, 2, 3], dtype=torch.int64)", LongTensor.FromArray(new long[] { 1, 2, 3 }).ToString());
        Assert.Equal("tensor([0.1235,    nan,    inf])", Tensor.FromArray([0.1234567f, float.NaN, float.PositiveInfinity], 3).ToString());
        Assert.Equal("tensor([[[0., 0., 0., 0.],\n         [0., 0., 0., 0.],\n         [0., 0., 0., 0.]],\n\n        [[0., 0., 0., 0.],\n         [0., 0., 0., 0.],\n         [0., 0., 0., 0.]]])",
            Tensor.Zeros(2, 3, 4).ToString());
    }

    [Fact]
    public void ViewsShareStorageAndContiguousCopiesOnlyWhenNeeded()
    {
        var x = Tensor.Arange(24).Reshape(2, 3, 4);
        var t = x.Transpose(0, 2);
        Assert.Equal(new[] { 4, 3, 2 }, t.Shape.ToArray());
        Assert.False(t.IsContiguous);
        x[1, 2, 3] = 100;
        Assert.Equal(100, t[3, 2, 1]);
        Assert.Same(x, x.Contiguous());
        var c = t.Contiguous();
        Assert.True(c.IsContiguous);
        Assert.Equal(t.ToArray(), c.ToArray());
        Assert.Equal(new float[] { 0, 12, 4, 16, 8, 20 }, t.Select(0, 0).ToArray());
        Assert.Equal(new float[] { 5, 6 }, x.Select(0, 0).Narrow(0, 1, 1).Narrow(1, 1, 2).ToArray());
        Assert.Throws<ArgumentException>(() => t.View(24));
        Assert.Equal(24, t.Reshape(-1).Numel);
        Assert.Equal(new[] { 2, 12 }, x.Flatten(1).Shape.ToArray());
        Assert.Equal(new[] { 2, 1, 3, 4 }, x.Unsqueeze(1).Shape.ToArray());
        Assert.Equal(new[] { 2, 3, 4 }, x.Unsqueeze(-1).Squeeze().Shape.ToArray());
        Assert.Equal(new[] { 4, 2, 3 }, x.Permute(2, 0, 1).Shape.ToArray());
    }

    [Fact]
    public void CreationFunctions()
    {
        Assert.Equal(new float[] { 0, 0, 0 }, Tensor.Zeros(3).ToArray());
        Assert.Equal(new float[] { 1, 1 }, Tensor.Ones(2).ToArray());
        Assert.Equal(new float[] { 7, 7 }, Tensor.Full([1, 2], 7).ToArray());
        Assert.Equal(new float[] { 1, 1.5f, 2, 2.5f }, Tensor.Arange(1, 3, 0.5f).ToArray());
        Assert.Equal(2, Tensor.Zeros(2, 3).Dim);
        Assert.Equal(6, Tensor.Zeros(2, 3).Numel);
        Assert.Throws<ArgumentException>(() => Tensor.FromArray([1, 2, 3], 2, 2));
    }

    [Fact]
    public void IntegerTargetsAreLongTensors()
    {
        var logits = Tensor.FromArray([0.1f, 0.9f, 0.3f, 0.8f, 0.2f, 0.1f], 2, 3);
        var pred = logits.Argmax(1);
        Assert.Equal(new long[] { 1, 0 }, pred.ToArray());
        var target = LongTensor.FromArray(new long[] { 1, 2 }, 2);
        Assert.Equal(1, pred.CountEqual(target));
        Assert.Equal(new float[] { 1, 2 }, target.ToFloat().ToArray());
        Assert.Equal(new long[] { 3, -2 }, Tensor.FromArray([3.7f, -2.9f], 2).ToLong().ToArray());
    }

    [Fact]
    public void BroadcastingArithmeticWithScalars()
    {
        var a = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var b = Tensor.FromArray([10, 20, 30], 3);
        Assert.Equal(new float[] { 11, 22, 33, 14, 25, 36 }, (a + b).ToArray());
        Assert.Equal(new float[] { 9, 8, 7, 6, 5, 4 }, (10 - a).ToArray());
        Assert.Equal(new float[] { 0.5f, 1, 1.5f, 2, 2.5f, 3 }, (a / 2).ToArray());
        Assert.Equal(new[] { 2, 3 }, (a.T().T() * Tensor.Ones(2, 1)).Shape.ToArray());
        var ex = Assert.Throws<ArgumentException>(() => a + Tensor.Ones(2));
        Assert.Contains("must match", ex.Message);
    }
}

public class GeneratorPermutationTests
{
    [Fact]
    public void PermutationReproducesTorchRandperm()
    {
        // torch.manual_seed(0); torch.randperm(10); torch.randperm(5) — and a generator seeded 7 with n = 70000.
        var g = new Generator(0);
        Assert.Equal(new[] { 4, 1, 7, 5, 3, 9, 0, 8, 6, 2 }, g.Permutation(10));
        Assert.Equal(new[] { 3, 2, 4, 0, 1 }, g.Permutation(5));
        Assert.Equal(new[] { 1615, 67841, 41431, 64002, 60887, 55472, 15651, 67971 }, new Generator(7).Permutation(70000).Take(8));
    }
}
