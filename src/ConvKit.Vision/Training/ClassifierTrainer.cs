using System.Diagnostics;
using ConvKit.Data;
using ConvKit.Nn;
using ConvKit.Optim;

namespace ConvKit.Vision.Training;

/// <summary>One epoch's outcome.</summary>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainSeconds, double TestAccuracy, double ImagesPerSecond);

/// <summary>
/// Trains an image classifier with cross-entropy: seeded shuffling, optional augmentation, the recipe's optimizer
/// and per-step schedule, progress reports, and evaluation after every epoch. A NaN or infinite loss stops the run
/// with <see cref="TrainingDivergedException"/> naming the step.
/// </summary>
public sealed class ClassifierTrainer(Module model, ClassifierRecipe recipe, Action<string>? log = null)
{
    private readonly Action<string> _log = log ?? (_ => { });

    /// <summary>
    /// Trains for the recipe's epochs. <paramref name="shuffle"/> draws each epoch's order (torch.randperm's stream);
    /// pass the generator that initialised the model to continue its stream exactly as a PyTorch script using the
    /// global generator does. Default: a new generator seeded with the recipe's seed.
    /// </summary>
    public IReadOnlyList<EpochResult> Fit(TensorDataset train, TensorDataset test, Generator? shuffle = null, Action<EpochResult>? onEpoch = null)
    {
        var generator = shuffle ?? new Generator(recipe.Seed);
        var augmented = train.WithTransform(Augmentation(train.ImageShape), new Generator(recipe.Seed + 1));
        var loader = new DataLoader(augmented, recipe.BatchSize, shuffle: true, generator: generator);
        var parameters = model.Parameters().Cast<Tensor>().ToList();
        var optimizer = CreateOptimizer(parameters);
        var schedule = CreateSchedule(optimizer, recipe.Epochs * loader.Count);
        var results = new List<EpochResult>();
        for (int epoch = 1; epoch <= recipe.Epochs; epoch++)
        {
            model.Train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            int step = 0, seen = 0;
            foreach (var batch in loader)
            {
                step++;
                optimizer.ZeroGrad();
                var loss = F.CrossEntropy(model.Forward(batch.Images), batch.Labels, labelSmoothing: recipe.LabelSmoothing);
                float value = loss.Item();
                if (!float.IsFinite(value))
                    throw new TrainingDivergedException($"training loss became {value} at epoch {epoch}, step {step} (global step {(epoch - 1) * loader.Count + step}); lower the learning rate (now {recipe.Lr})");
                loss.Backward();
                optimizer.Step();
                schedule?.Step();
                lossSum += value;
                seen += batch.Size;
                if (step % 100 == 0)
                    _log($"epoch {epoch} step {step}/{loader.Count}: loss {lossSum / step:F4}, {seen / clock.Elapsed.TotalSeconds:F0} img/s");
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double accuracy = Evaluate(model, test);
            var r = new EpochResult(epoch, lossSum / Math.Max(step, 1), seconds, accuracy, seen / seconds);
            _log($"epoch {epoch}: train {seconds:F1} s ({r.ImagesPerSecond:F0} img/s), loss {r.TrainLoss:F4}, test accuracy {accuracy:P2}");
            results.Add(r);
            onEpoch?.Invoke(r);
        }
        return results;
    }

    /// <summary>Top-1 accuracy in evaluation mode, batches of 500, without recording gradients.</summary>
    public static double Evaluate(Module model, TensorDataset test)
    {
        model.Eval();
        int correct = 0;
        using (Autograd.NoGrad())
            foreach (var batch in new DataLoader(test, 500))
                correct += model.Forward(batch.Images).Argmax(1).CountEqual(batch.Labels);
        return (double)correct / test.Count;
    }

    private Func<Tensor, Generator, Tensor>? Augmentation(IReadOnlyList<int> imageShape)
    {
        var steps = new List<Func<Tensor, Generator, Tensor>>();
        if (recipe.CropPadding > 0) steps.Add(Transforms.RandomCrop((imageShape[^2], imageShape[^1]), recipe.CropPadding));
        if (recipe.HorizontalFlip) steps.Add(Transforms.RandomHorizontalFlip());
        return steps.Count == 0 ? null : Transforms.Compose(steps.ToArray());
    }

    private Optimizer CreateOptimizer(List<Tensor> parameters) => recipe.Optimizer switch
    {
        "adam" => new Adam(parameters, recipe.Lr, weightDecay: recipe.WeightDecay),
        "adamw" => new AdamW(parameters, recipe.Lr, weightDecay: recipe.WeightDecay),
        "sgd" => new SGD(parameters, recipe.Lr, momentum: recipe.Momentum, weightDecay: recipe.WeightDecay, nesterov: recipe.Momentum > 0),
        _ => throw new ArgumentException($"unknown optimizer '{recipe.Optimizer}'; expected adam, adamw or sgd"),
    };

    private LRScheduler? CreateSchedule(Optimizer optimizer, int totalSteps) => recipe.Schedule switch
    {
        "none" => null,
        "onecycle" => new OneCycleLR(optimizer, recipe.Lr, totalSteps),
        "cosine" => new CosineAnnealingLR(optimizer, totalSteps),
        "step" => new StepLR(optimizer, Math.Max(1, totalSteps / 4), 0.1),
        _ => throw new ArgumentException($"unknown schedule '{recipe.Schedule}'; expected none, onecycle, cosine or step"),
    };
}
