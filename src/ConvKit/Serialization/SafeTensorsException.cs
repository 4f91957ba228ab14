namespace ConvKit.Serialization;

/// <summary>A safetensors file that is malformed, truncated or inconsistent; the message names the file and what was expected.</summary>
public sealed class SafeTensorsException : IOException
{
    public SafeTensorsException(string message) : base(message) { }
    public SafeTensorsException(string message, Exception inner) : base(message, inner) { }
}
