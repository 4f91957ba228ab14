using Xunit;

namespace ConvKit.Tests;

/// <summary>
/// A fact for a check on files too big to commit: xUnit reports it as skipped, saying which script runs it, unless
/// the environment variable naming the script's output folder is set.
/// </summary>
public sealed class OptInFactAttribute : FactAttribute
{
    public OptInFactAttribute(string variable, string script)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable)))
            Skip = $"opt-in: run {script} (sets {variable})";
    }
}
