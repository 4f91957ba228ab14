using Xunit;

namespace ConvKit.Tests.Kernels;

/// <summary>
/// The test classes that set the process-wide <c>Gemm.ForceScalar</c>, and those whose exact comparisons need the
/// same kernel path for both sides: xUnit runs the classes of one collection one after another, so no flip of the
/// switch lands between two calls that must agree bit for bit.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ForceScalarCollection
{
    public const string Name = "Gemm.ForceScalar";
}
