using ConvKit.Data;
using ConvKit.Nn;
using ConvKit.Vision.Data;
using ConvKit.Vision.Metrics;

namespace ConvKit.Vision.Training;

/// <summary>
/// Trains a segmentation network (logits [N, K, H, W] for images [N, C, H, W]) with per-pixel cross-entropy
/// (ignoring <see cref="SegmentationRecipe.IgnoreIndex"/>), optionally plus soft Dice, and reports mean IoU and pixel
/// accuracy on the validation set after every epoch (metrics "miou", "pixel_accuracy"). The loop is
/// <see cref="TrainLoop{TBatch}"/>: checkpoints, metrics.csv and resume come from there.
/// </summary>
public sealed class SegmentationTrainer(Module model, SegmentationRecipe recipe, int numClasses)
{
    public string? OutputDir { get; init; }
    public IReadOnlyDictionary<string, string> Info { get; init; } = new Dictionary<string, string>();
    public Action<TrainProgress>? OnStep { get; init; }

    /// <summary>Joint image/mask augmentation applied to training samples (e.g. SegmentationTransforms); null for none.</summary>
    public Func<SegmentationSample, Generator, SegmentationSample>? Augment { get; init; }

    /// <summary>Trains for the recipe's epochs; <paramref name="shuffle"/> as in <see cref="ClassifierTrainer.Fit"/>.</summary>
    public IReadOnlyList<EpochReport> Fit(IDataset<SegmentationSample> train, IDataset<SegmentationSample> val,
        Generator? shuffle = null, Action<EpochReport>? onEpoch = null, bool resume = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 2);
        var generator = shuffle ?? new Generator(recipe.Seed);
        var augment = new Generator(recipe.Seed + 1);
        var loader = new DataLoader<SegmentationSample, SegmentationBatch>(
            Augment is null ? train : new TransformedDataset<SegmentationSample>(train, Augment, augment), SegmentationBatch.Collate, recipe.BatchSize, shuffle: true, generator: generator, dropLast: train.Count > recipe.BatchSize);
        var task = new TrainTask<SegmentationBatch>(Loss, b => b.Size, m =>
        {
            var cm = Evaluate(m, val, numClasses, recipe.IgnoreIndex);
            return new Dictionary<string, double> { ["miou"] = cm.MeanIoU, ["pixel_accuracy"] = cm.PixelAccuracy };
        });
        var loop = new TrainLoop<SegmentationBatch>(model, recipe, task) { OutputDir = OutputDir, Info = Info, OnStep = OnStep, OnEpoch = onEpoch };
        return loop.Fit(loader, loader.Count, generator, augment, resume);
    }

    private Tensor Loss(Module m, SegmentationBatch b)
    {
        var logits = m.Forward(b.Images);
        var loss = F.CrossEntropy(logits, b.Masks, ignoreIndex: recipe.IgnoreIndex);
        return recipe.DiceWeight > 0 ? loss + F.DiceLoss(logits, b.Masks, ignoreIndex: recipe.IgnoreIndex) * recipe.DiceWeight : loss;
    }

    /// <summary>The confusion matrix of <paramref name="model"/> (in evaluation mode, without gradients) over a dataset.</summary>
    public static ConfusionMatrix Evaluate(Module model, IDataset<SegmentationSample> data, int numClasses, int ignoreIndex = 255, int batchSize = 32)
    {
        model.Eval();
        var cm = new ConfusionMatrix(numClasses, ignoreIndex);
        using (Autograd.NoGrad())
            foreach (var batch in new DataLoader<SegmentationSample, SegmentationBatch>(data, SegmentationBatch.Collate, batchSize))
                using (TensorScope.Begin()) cm.Update(model.Forward(batch.Images), batch.Masks);
        return cm;
    }
}
