using System.Runtime.CompilerServices;

namespace ConvKit.Tests;

/// <summary>
/// Every test process runs with released tensor storage poisoned: a kernel or model that reads a tensor after its
/// TensorScope ended, or that the backward pass recycled too early, then fails its test with NaN instead of
/// passing on stale but plausible numbers.
/// </summary>
internal static class PoisonReleasedStorage
{
    [ModuleInitializer]
    internal static void TurnOn() => TensorPool.PoisonReleased = true;
}
