namespace ConvKit.Tests;

/// <summary>A fresh temporary folder per test class instance, deleted when the test is disposed.</summary>
public abstract class TempDirectory : IDisposable
{
    protected string Dir { get; } = Directory.CreateTempSubdirectory("convkit-test-").FullName;

    protected string PathOf(string name) => Path.Combine(Dir, name);

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
