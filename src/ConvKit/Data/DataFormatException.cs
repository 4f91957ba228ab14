namespace ConvKit.Data;

/// <summary>
/// A data file is malformed: bad magic, impossible header, truncated or trailing data, corrupt
/// compression. The message names the file, what was expected and what was found.
/// </summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string message) : base(message) { }
    public DataFormatException(string message, Exception inner) : base(message, inner) { }
}
