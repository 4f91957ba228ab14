using System.Diagnostics;
using System.Globalization;
using ConvKit.Nn;
using ConvKit.Serialization;

namespace ConvKit.Vision.Training;

/// <summary>Where a run is, reported after every step: for progress bars.</summary>
public sealed record TrainProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, double ImagesPerSecond, TimeSpan Eta);

/// <summary>One epoch's outcome: mean training loss, time, throughput, the lr at its end and the evaluation metrics.</summary>
public sealed record EpochReport(int Epoch, double TrainLoss, double Seconds, double ImagesPerSecond, double Lr, IReadOnlyDictionary<string, double> Metrics);

/// <summary>The files <see cref="TrainLoop{TBatch}"/> writes into its output folder.</summary>
public static class TrainOutputs
{
    public const string CheckpointFile = "checkpoint.safetensors";
    public const string WeightsFile = "model.safetensors";
    public const string MetricsFile = "metrics.csv";
}

/// <summary>What a task plugs into <see cref="TrainLoop{TBatch}"/>: the loss of a batch, its size, and the evaluation.</summary>
public sealed record TrainTask<TBatch>(
    Func<Module, TBatch, Tensor> Loss,
    Func<TBatch, int> BatchSize,
    Func<Module, IReadOnlyDictionary<string, double>> Evaluate);

/// <summary>
/// The training loop shared by every task: the recipe's optimizer and per-step schedule, a NaN/Inf check on each
/// loss (<see cref="TrainingDivergedException"/> naming the step), evaluation after every epoch, and with an output
/// folder a checkpoint after every epoch (<c>checkpoint.safetensors</c>: model, optimizer, schedule, epoch and both
/// generators; <c>model.safetensors</c>: the weights alone) and <c>metrics.csv</c>, each replaced atomically.
/// <see cref="Fit"/> with <c>resume</c> continues from the last complete epoch exactly as the uninterrupted run would.
/// </summary>
public sealed class TrainLoop<TBatch>(Module model, TrainRecipe recipe, TrainTask<TBatch> task)
{
    private const string CheckpointFile = TrainOutputs.CheckpointFile, WeightsFile = TrainOutputs.WeightsFile, MetricsFile = TrainOutputs.MetricsFile;

    /// <summary>Folder for checkpoints and metrics; null writes nothing.</summary>
    public string? OutputDir { get; init; }

    /// <summary>Metadata stored with every checkpoint (model name, classes, dataset, ...).</summary>
    public IReadOnlyDictionary<string, string> Info { get; init; } = new Dictionary<string, string>();

    public Action<TrainProgress>? OnStep { get; init; }
    public Action<EpochReport>? OnEpoch { get; init; }

    /// <summary>
    /// Trains for the recipe's epochs. <paramref name="shuffle"/> is the loader's generator (pass the one that
    /// initialised the model to continue its stream, as a PyTorch script using the global generator does);
    /// <paramref name="augment"/> is the generator of the dataset's random transforms, saved and restored with it.
    /// With <paramref name="resume"/> and a checkpoint in <see cref="OutputDir"/>, everything is restored from it first.
    /// </summary>
    public IReadOnlyList<EpochReport> Fit(IEnumerable<TBatch> loader, int stepsPerEpoch, Generator shuffle, Generator? augment = null, bool resume = false)
    {
        recipe.Validate();
        var optimizer = recipe.CreateOptimizer(model.Parameters());
        var schedule = recipe.CreateSchedule(optimizer, recipe.Epochs * stepsPerEpoch);
        var reports = new List<EpochReport>();
        int start = 0;
        if (resume && OutputDir is not null && File.Exists(Path.Combine(OutputDir, CheckpointFile)))
        {
            var path = Path.Combine(OutputDir, CheckpointFile);
            start = Checkpoint.Load(path, model, optimizer, schedule, shuffle);
            if (augment is not null && Checkpoint.ReadInfo(path).TryGetValue("convkit.rng.augment", out var a))
                augment.SetState(Convert.FromBase64String(a));
            reports.AddRange(ReadMetrics().Where(r => r.Epoch <= start));
        }
        var clock = Stopwatch.StartNew();
        for (int epoch = start + 1; epoch <= recipe.Epochs; epoch++)
        {
            model.Train();
            var epochClock = Stopwatch.StartNew();
            double lossSum = 0;
            int step = 0, seen = 0;
            foreach (var batch in loader)
            {
                step++;
                float value;
                // One scope per step: backward recycles the activations as it passes them and the rest comes back
                // at the step's end, so the steady state allocates nothing proportional to tensor sizes. Gradients
                // are zeroed in place (PyTorch 1.13's default) rather than dropped, so they too are reused.
                using (TensorScope.BeginTraining())
                {
                    optimizer.ZeroGrad(setToNone: false);
                    var loss = task.Loss(model, batch);
                    value = loss.Item();
                    if (!float.IsFinite(value))
                        throw new TrainingDivergedException($"training loss became {value} at epoch {epoch}, step {step} (global step {(epoch - 1) * stepsPerEpoch + step}); lower the learning rate (now {recipe.Lr})");
                    loss.Backward();
                    optimizer.Step();
                }
                schedule?.Step();
                lossSum += value;
                seen += task.BatchSize(batch);
                double rate = seen / epochClock.Elapsed.TotalSeconds;
                int remaining = (recipe.Epochs - epoch) * stepsPerEpoch + stepsPerEpoch - step;
                OnStep?.Invoke(new TrainProgress(epoch, recipe.Epochs, step, stepsPerEpoch, lossSum / step, rate,
                    TimeSpan.FromSeconds(epochClock.Elapsed.TotalSeconds / step * remaining)));
            }
            double seconds = epochClock.Elapsed.TotalSeconds;
            var report = new EpochReport(epoch, lossSum / Math.Max(step, 1), seconds, seen / seconds, optimizer.ParamGroups[0].Lr, task.Evaluate(model));
            reports.Add(report);
            if (OutputDir is not null) Save(epoch, optimizer, schedule, shuffle, augment, reports);
            OnEpoch?.Invoke(report);
        }
        return reports;
    }

    private void Save(int epoch, Optim.Optimizer optimizer, Optim.LRScheduler? schedule, Generator shuffle, Generator? augment, List<EpochReport> reports)
    {
        var info = new Dictionary<string, string>(Info);
        if (augment is not null) info["convkit.rng.augment"] = Convert.ToBase64String(augment.GetState());
        // Metrics first: a crash between the two writes then leaves a CSV one epoch ahead, which resume trims.
        AtomicFile.Write(Path.Combine(OutputDir!, MetricsFile), s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            var names = reports[0].Metrics.Keys.ToList();
            w.WriteLine("epoch,train_loss,seconds,images_per_second,lr" + string.Concat(names.Select(n => "," + n)));
            foreach (var r in reports)
                w.WriteLine(string.Join(",", new[] { r.Epoch, r.TrainLoss, r.Seconds, r.ImagesPerSecond, r.Lr }.Concat(names.Select(n => r.Metrics[n]))
                    .Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
        });
        Checkpoint.Save(Path.Combine(OutputDir!, CheckpointFile), model, epoch, optimizer, schedule, shuffle, info);
        SafeTensors.SaveStateDict(Path.Combine(OutputDir!, WeightsFile), model, Info);
    }

    /// <summary>The reports of the epochs the checkpoint covers, from metrics.csv (missing or unreadable: none).</summary>
    private IEnumerable<EpochReport> ReadMetrics()
    {
        var path = Path.Combine(OutputDir!, MetricsFile);
        if (!File.Exists(path)) yield break;
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) yield break;
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1))
        {
            var v = line.Split(',');
            if (v.Length != header.Length || !v.All(x => double.TryParse(x, CultureInfo.InvariantCulture, out _))) yield break;
            var d = v.Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            yield return new EpochReport((int)d[0], d[1], d[2], d[3], d[4], header.Skip(5).Zip(d.Skip(5)).ToDictionary(p => p.First, p => p.Second));
        }
    }
}
