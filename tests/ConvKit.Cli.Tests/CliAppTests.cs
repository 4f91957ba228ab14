using Xunit;

namespace ConvKit.Cli.Tests;

public class CliAppTests : CliTestBase
{
    [Fact]
    public void ParseErrorsAreOneLineWithExitCode2()
    {
        AssertFails(Run("eval"), "eval", "Option '--checkpoint' is required.");
        AssertFails(Run("explain", "conv", "--input", "3", "--kernel", "2", "--groups", "two"), "explain conv", "two");
        AssertFails(Run("upsample", "a.png", "b.png", "--bogus"), "upsample", "Unrecognized command or argument '--bogus'");
    }

    [Fact]
    public void HelpListsTheCommands()
    {
        var (code, stdout, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var name in new[] { "train", "eval", "predict", "viz", "explain", "upsample" }) Assert.Contains(name, stdout);
    }
}
