namespace ConvKit;

/// <summary>Sets an AsyncLocal for the lifetime of a using-scope and restores the previous value on dispose.</summary>
internal static class AsyncLocalScope
{
    public static IDisposable Set<T>(AsyncLocal<T> local, T value)
    {
        var previous = local.Value;
        local.Value = value;
        return new Restore<T>(local, previous);
    }

    private sealed class Restore<T>(AsyncLocal<T> local, T? previous) : IDisposable
    {
        public void Dispose() => local.Value = previous!;
    }
}
