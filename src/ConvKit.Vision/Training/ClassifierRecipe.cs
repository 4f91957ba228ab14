namespace ConvKit.Vision.Training;

/// <summary>
/// Hyper-parameters of a classification run. <see cref="Parity"/> is the PyTorch peer's recipe
/// (shared/peer/peer_fashion.py: Adam 1e-3, batch 64, no augmentation); <see cref="Default"/> is ConvKit's shipped
/// recipe for SmallSECnn on Fashion-MNIST: AdamW with a one-cycle schedule, label smoothing and random crops.
/// </summary>
public sealed record ClassifierRecipe
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 64;
    /// <summary>"adam", "adamw" or "sgd".</summary>
    public string Optimizer { get; init; } = "adamw";
    public double Lr { get; init; } = 3e-3;
    public double WeightDecay { get; init; } = 5e-4;
    public double Momentum { get; init; } = 0.9;
    /// <summary>"none", "onecycle", "cosine" or "step" (÷10 after every quarter of the run).</summary>
    public string Schedule { get; init; } = "onecycle";
    public float LabelSmoothing { get; init; } = 0.1f;
    /// <summary>Random crop with this much zero padding (0 = no crop augmentation).</summary>
    public int CropPadding { get; init; } = 2;
    public bool HorizontalFlip { get; init; } = true;
    public ulong Seed { get; init; }

    public static ClassifierRecipe Default { get; } = new();

    public static ClassifierRecipe Parity { get; } = new()
    {
        Epochs = 3, Optimizer = "adam", Lr = 1e-3, WeightDecay = 0, Schedule = "none", LabelSmoothing = 0, CropPadding = 0, HorizontalFlip = false,
    };

    public static ClassifierRecipe Named(string name) => name switch
    {
        "default" => Default,
        "parity" => Parity,
        _ => throw new ArgumentException($"unknown recipe '{name}'; expected 'default' or 'parity'"),
    };
}
