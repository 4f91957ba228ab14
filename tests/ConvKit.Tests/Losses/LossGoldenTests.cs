using ConvKit.Tests.Golden;
using Xunit;

namespace ConvKit.Tests.Losses;

/// <summary>Every loss case of loss.json.gz (PyTorch 1.13 outputs and input gradients, and the cases it rejects).</summary>
public class LossGoldenTests
{
    public static IEnumerable<object[]> Cases => GoldenFixtures.Cases("loss");

    [Theory, MemberData(nameof(Cases))]
    public void LossMatchesPyTorch(GoldenCase c) => GoldenRunner.Check(c);
}
