using ConvKit.Data;
using ConvKit.Nn;

namespace ConvKit.Vision.Training;

/// <summary>
/// Trains an image classifier with cross-entropy on a <see cref="TensorDataset"/>: seeded shuffling, the recipe's
/// augmentation (random crop, flip), optimizer and per-step schedule, and top-1 accuracy on the test set after
/// every epoch (metric "accuracy"). The loop itself is <see cref="TrainLoop{TBatch}"/>.
/// </summary>
public sealed class ClassifierTrainer(Module model, ClassifierRecipe recipe, Action<string>? log = null)
{
    /// <summary>Folder for checkpoints and metrics.csv; null writes nothing.</summary>
    public string? OutputDir { get; init; }

    public IReadOnlyDictionary<string, string> Info { get; init; } = new Dictionary<string, string>();

    public Action<TrainProgress>? OnStep { get; init; }

    /// <summary>
    /// Trains for the recipe's epochs. <paramref name="shuffle"/> draws each epoch's order (torch.randperm's stream);
    /// pass the generator that initialised the model to continue its stream exactly as a PyTorch script using the
    /// global generator does. Default: a new generator seeded with the recipe's seed.
    /// </summary>
    public IReadOnlyList<EpochReport> Fit(TensorDataset train, TensorDataset test, Generator? shuffle = null, Action<EpochReport>? onEpoch = null, bool resume = false)
    {
        var generator = shuffle ?? new Generator(recipe.Seed);
        var augment = new Generator(recipe.Seed + 1);
        var loader = new DataLoader(train.WithTransform(Augmentation(train.ImageShape), augment), recipe.BatchSize, shuffle: true, generator: generator);
        var task = new TrainTask<Batch>(
            (m, b) => F.CrossEntropy(m.Forward(b.Images), b.Labels, labelSmoothing: recipe.LabelSmoothing),
            b => b.Size,
            m => new Dictionary<string, double> { ["accuracy"] = Evaluate(m, test) });
        var loop = new TrainLoop<Batch>(model, recipe, task)
        {
            OutputDir = OutputDir,
            Info = Info,
            OnStep = OnStep,
            OnEpoch = r =>
            {
                log?.Invoke($"epoch {r.Epoch}: train {r.Seconds:F1} s ({r.ImagesPerSecond:F0} img/s), loss {r.TrainLoss:F4}, test accuracy {r.Metrics["accuracy"]:P2}");
                onEpoch?.Invoke(r);
            },
        };
        return loop.Fit(loader, loader.Count, generator, augment, resume);
    }

    /// <summary>Top-1 accuracy in evaluation mode, batches of 500, without recording gradients.</summary>
    public static double Evaluate(Module model, TensorDataset test)
    {
        model.Eval();
        int correct = 0;
        using (Autograd.NoGrad())
            foreach (var batch in new DataLoader(test, 500))
                using (TensorScope.Begin()) correct += model.Forward(batch.Images).Argmax(1).CountEqual(batch.Labels);
        return (double)correct / test.Count;
    }

    private Func<Tensor, Generator, Tensor>? Augmentation(IReadOnlyList<int> imageShape)
    {
        var steps = new List<Func<Tensor, Generator, Tensor>>();
        if (recipe.CropPadding > 0) steps.Add(Transforms.RandomCrop((imageShape[^2], imageShape[^1]), recipe.CropPadding));
        if (recipe.HorizontalFlip) steps.Add(Transforms.RandomHorizontalFlip());
        return steps.Count == 0 ? null : Transforms.Compose(steps.ToArray());
    }
}
