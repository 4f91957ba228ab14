using ConvKit.Optim;

namespace ConvKit.Vision.Training;

/// <summary>
/// The hyper-parameters every training run shares: epochs, batch size, optimizer, learning rate and schedule, seed.
/// Task recipes (<see cref="ClassifierRecipe"/>, <see cref="SegmentationRecipe"/>) add their own.
/// </summary>
public record TrainRecipe
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 64;
    /// <summary>"adam", "adamw" or "sgd" (Nesterov when <see cref="Momentum"/> &gt; 0).</summary>
    public string Optimizer { get; init; } = "adamw";
    /// <summary>The learning rate; the peak of a one-cycle schedule.</summary>
    public double Lr { get; init; } = 3e-3;
    public double WeightDecay { get; init; } = 5e-4;
    public double Momentum { get; init; } = 0.9;
    /// <summary>"none", "onecycle", "cosine" or "step" (÷10 after every quarter of the run), stepped once per batch.</summary>
    public string Schedule { get; init; } = "onecycle";
    public ulong Seed { get; init; }

    /// <summary>Checks the fields, so a bad value fails before any work with a message naming it.</summary>
    public virtual void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1, got {Epochs}");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be at least 1, got {BatchSize}");
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw new ArgumentException($"learning rate must be a positive number, got {Lr}");
        if (Optimizer is not ("adam" or "adamw" or "sgd")) throw new ArgumentException($"unknown optimizer '{Optimizer}'; expected adam, adamw or sgd");
        if (Schedule is not ("none" or "onecycle" or "cosine" or "step")) throw new ArgumentException($"unknown schedule '{Schedule}'; expected none, onecycle, cosine or step");
    }

    /// <summary>The recipe's optimizer over <paramref name="parameters"/>.</summary>
    public Optimizer CreateOptimizer(IEnumerable<Tensor> parameters) => Optimizer switch
    {
        "adam" => new Adam(parameters, Lr, weightDecay: WeightDecay),
        "adamw" => new AdamW(parameters, Lr, weightDecay: WeightDecay),
        "sgd" => new SGD(parameters, Lr, momentum: Momentum, weightDecay: WeightDecay, nesterov: Momentum > 0),
        _ => throw new ArgumentException($"unknown optimizer '{Optimizer}'; expected adam, adamw or sgd"),
    };

    /// <summary>The recipe's per-step schedule over <paramref name="totalSteps"/> steps, or null for "none".</summary>
    public LRScheduler? CreateSchedule(Optimizer optimizer, int totalSteps) => Schedule switch
    {
        "none" => null,
        "onecycle" => new OneCycleLR(optimizer, Lr, totalSteps),
        "cosine" => new CosineAnnealingLR(optimizer, totalSteps),
        "step" => new StepLR(optimizer, Math.Max(1, totalSteps / 4), 0.1),
        _ => throw new ArgumentException($"unknown schedule '{Schedule}'; expected none, onecycle, cosine or step"),
    };
}
