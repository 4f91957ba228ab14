public class Smoke { [Xunit.Fact] public void T() => Xunit.Assert.True(true); }
