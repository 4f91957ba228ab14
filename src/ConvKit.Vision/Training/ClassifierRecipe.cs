namespace ConvKit.Vision.Training;

/// <summary>
/// Hyper-parameters of a classification run. <see cref="Parity"/> is the PyTorch peer's recipe
/// (shared/peer/peer_fashion.py: Adam 1e-3, batch 64, no augmentation); <see cref="Default"/> is ConvKit's shipped
/// recipe for SmallSECnn on Fashion-MNIST: AdamW with a one-cycle schedule, label smoothing and random crops.
/// </summary>
public sealed record ClassifierRecipe : TrainRecipe
{
    public float LabelSmoothing { get; init; } = 0.1f;
    /// <summary>Random crop with this much zero padding (0 = no crop augmentation).</summary>
    public int CropPadding { get; init; } = 2;
    public bool HorizontalFlip { get; init; } = true;

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
