using ConvKit.Data;
using ConvKit.Vision.Models;
using ConvKit.Vision.Training;
using Xunit;

namespace ConvKit.Vision.Tests;

public class ClassifierTrainerTests : ConvKit.Tests.TempDirectory
{
    private static TensorDataset Synthetic(int n, ulong seed, bool poison = false)
    {
        // Two separable classes: bright upper half vs bright lower half, plus noise.
        var g = new Generator(seed);
        var images = Tensor.Randn([n, 1, 28, 28], g) * 0.3f;
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 2;
            for (int r = 0; r < 14; r++)
                for (int c = 0; c < 28; c++)
                    images[i, 0, labels[i] == 0 ? r : r + 14, c] += 1f;
        }
        if (poison) images[n - 1, 0, 0, 0] = float.NaN;
        return new TensorDataset(images, LongTensor.FromArray(labels, n));
    }

    private static SmallSECnn Model()
    {
        using (Generator.Use(new Generator(0))) return new SmallSECnn(classes: 2);
    }

    [Fact]
    public void LearnsASeparableProblemAndReportsEveryEpoch()
    {
        var recipe = ClassifierRecipe.Parity with { Epochs = 2, BatchSize = 16 };
        var log = new List<string>();
        var results = new ClassifierTrainer(Model(), recipe, log.Add).Fit(Synthetic(64, 1), Synthetic(32, 2));
        Assert.Equal(2, results.Count);
        Assert.True(results[^1].Metrics["accuracy"] >= 0.9, $"accuracy {results[^1].Metrics["accuracy"]}");
        Assert.Contains(log, l => l.StartsWith("epoch 2:"));
    }

    [Fact]
    public void ANonFiniteLossStopsTheRunAndNamesTheStep()
    {
        // Batches are unshuffled only through the seed; the poisoned image is the last one, so find its batch.
        var recipe = ClassifierRecipe.Parity with { Epochs = 1, BatchSize = 64 };
        var ex = Assert.Throws<TrainingDivergedException>(() =>
            new ClassifierTrainer(Model(), recipe).Fit(Synthetic(64, 3, poison: true), Synthetic(8, 4)));
        Assert.Contains("NaN", ex.Message);
        Assert.Contains("epoch 1, step 1", ex.Message);
    }

    [Fact]
    public void AKilledRunResumesFromItsLastCheckpointToTheSameWeights()
    {
        var recipe = ClassifierRecipe.Default with { Epochs = 3, BatchSize = 16 };
        var whole = Model();
        new ClassifierTrainer(whole, recipe) { OutputDir = PathOf("whole") }.Fit(Synthetic(48, 1), Synthetic(16, 2));

        var killed = Model();
        var trainer = new ClassifierTrainer(killed, recipe) { OutputDir = PathOf("killed") };
        Assert.Throws<OperationCanceledException>(() => trainer.Fit(Synthetic(48, 1), Synthetic(16, 2),
            onEpoch: r => { if (r.Epoch == 2) throw new OperationCanceledException("killed"); }));
        var resumed = Model();
        var reports = new ClassifierTrainer(resumed, recipe) { OutputDir = PathOf("killed") }.Fit(Synthetic(48, 1), Synthetic(16, 2), resume: true);

        Assert.Equal([1, 2, 3], reports.Select(r => r.Epoch));
        Assert.Equal(whole.StateDict().SelectMany(kv => kv.Value.ToArray()), resumed.StateDict().SelectMany(kv => kv.Value.ToArray()));
        var csv = File.ReadAllLines(Path.Combine(PathOf("killed"), "metrics.csv"));
        Assert.Equal("epoch,train_loss,seconds,images_per_second,lr,accuracy", csv[0]);
        Assert.Equal(4, csv.Length);
    }
}
