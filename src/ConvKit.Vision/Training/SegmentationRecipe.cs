namespace ConvKit.Vision.Training;

/// <summary>
/// Hyper-parameters of a segmentation run: the shared <see cref="TrainRecipe"/> plus the loss's ignore value and an
/// optional soft-Dice term. <see cref="Default"/> (AdamW 6e-3 one-cycle, batch 16, 5 epochs, cross-entropy + soft Dice)
/// trains the small UNet on 2,600 synthetic 32×32 shapes to a validation mIoU above 0.9 in about two minutes on 2 cores.
/// </summary>
public sealed record SegmentationRecipe : TrainRecipe
{
    /// <summary>Mask value that takes no loss and no metric (VOC's 255 border).</summary>
    public int IgnoreIndex { get; init; } = 255;

    /// <summary>Weight of the soft Dice loss added to cross-entropy (0 = cross-entropy alone).</summary>
    public float DiceWeight { get; init; }

    public static SegmentationRecipe Default { get; } = new() { Epochs = 5, BatchSize = 16, Lr = 6e-3, WeightDecay = 1e-4, DiceWeight = 1f };

    public override void Validate()
    {
        base.Validate();
        if (!(DiceWeight >= 0)) throw new ArgumentException($"dice weight must be non-negative, got {DiceWeight}");
    }
}
