namespace ConvKit.Data;

/// <summary>
/// The files of a dataset are not where they were looked for. The message lists every place searched
/// and how to provide the files; <see cref="FileNotFoundException.FileName"/> is the first missing file.
/// </summary>
public sealed class DatasetNotFoundException : FileNotFoundException
{
    public DatasetNotFoundException(string message, string fileName) : base(message, fileName) { }
}
