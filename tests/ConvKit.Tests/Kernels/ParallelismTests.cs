using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>The library's parallel loop runs every item exactly once, whatever the run length it claims, and reports an item's exception.</summary>
public class ParallelismTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(1000)]
    [InlineData(12345)]
    public void EveryItemRunsOnce(int count)
    {
        var hits = new int[count];
        Parallelism.For(count, 2, i => Interlocked.Increment(ref hits[i]));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void AnItemsExceptionReachesTheCaller()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Parallelism.For(500, 2, i => { if (i == 321) throw new InvalidOperationException("item 321"); }));
        Assert.Equal("item 321", e.Message);
        var hits = new int[64];
        Parallelism.For(64, 2, i => hits[i]++);   // the pool still works afterwards
        Assert.All(hits, h => Assert.Equal(1, h));
    }
}
