namespace ConvKit.Vision.Imaging;

/// <summary>
/// Writes a file so that a crash never leaves it half-written: the content goes to a temporary file
/// in the same folder (so the final rename stays on one file system), is flushed to disk, and only
/// then replaces the target with <see cref="File.Move(string, string, bool)"/>.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Calls <paramref name="write"/> with a stream on a temporary file next to <paramref name="path"/>,
    /// then renames it over <paramref name="path"/>. If <paramref name="write"/> throws, the temporary
    /// file is deleted and the target is left untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
