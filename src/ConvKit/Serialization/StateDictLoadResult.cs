namespace ConvKit.Serialization;

/// <summary>
/// What <see cref="SafeTensors.LoadStateDict(string, Nn.Module, bool, string, bool)"/> did, as PyTorch's
/// <c>load_state_dict</c> result: the model's keys the file lacked, the file's keys the model lacks, and the keys
/// left unloaded because their shapes differ ("name [file shape] (model [shape])").
/// </summary>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys, IReadOnlyList<string> SkippedKeys)
{
    /// <summary>Deconstructs as PyTorch's <c>(missing_keys, unexpected_keys)</c>.</summary>
    public void Deconstruct(out IReadOnlyList<string> missingKeys, out IReadOnlyList<string> unexpectedKeys) =>
        (missingKeys, unexpectedKeys) = (MissingKeys, UnexpectedKeys);
}
