namespace ConvKit.Vision.Training;

/// <summary>Raised when a training loss becomes NaN or infinite; the message names the epoch and step.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
