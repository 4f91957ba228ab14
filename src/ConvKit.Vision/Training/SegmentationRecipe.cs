namespace ConvKit.Vision.Training;

/// <summary>
/// Hyper-parameters of a segmentation run: the shared <see cref="TrainRecipe"/> plus the loss's ignore value and an
/// optional soft-Dice term. <see cref="Default"/> is the recipe that trains the small UNet on synthetic shapes.
/// </summary>
public sealed record SegmentationRecipe : TrainRecipe
{
    /// <summary>Mask value that takes no loss and no metric (VOC's 255 border).</summary>
    public int IgnoreIndex { get; init; } = 255;

    /// <summary>Weight of the soft Dice loss added to cross-entropy (0 = cross-entropy alone).</summary>
    public float DiceWeight { get; init; }

    public static SegmentationRecipe Default { get; } = new() { Epochs = 6, BatchSize = 16, Lr = 4e-3, WeightDecay = 1e-4 };

    public override void Validate()
    {
        base.Validate();
        if (!(DiceWeight >= 0)) throw new ArgumentException($"dice weight must be non-negative, got {DiceWeight}");
    }
}
