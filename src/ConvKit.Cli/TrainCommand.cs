using System.CommandLine;
using ConvKit.Data;
using ConvKit.Nn;
using ConvKit.Vision.Models;
using ConvKit.Vision.Training;

namespace ConvKit.Cli;

/// <summary><c>convkit train</c>: trains a model on a dataset with a named recipe, printing progress.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model: se-cnn (SmallSECnn for 28×28 grey images)", DefaultValueFactory = _ => "se-cnn" };
        var data = new Option<string>("--data") { Description = "Dataset: fashion-mnist", DefaultValueFactory = _ => "fashion-mnist" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Directory with the IDX files (default: $CONVKIT_FASHION_MNIST, then /usr/share/datasets/fashion-mnist)" };
        var recipe = new Option<string>("--recipe") { Description = "default (AdamW, one-cycle, label smoothing, crops) or parity (PyTorch peer: Adam 1e-3, 3 epochs)", DefaultValueFactory = _ => "default" };
        var epochs = new Option<int?>("--epochs") { Description = "Override the recipe's epoch count" };
        var batch = new Option<int?>("--batch-size") { Description = "Override the recipe's batch size" };
        var lr = new Option<double?>("--lr") { Description = "Override the recipe's (peak) learning rate" };
        var optimizer = new Option<string?>("--optimizer") { Description = "Override the optimizer: adam, adamw or sgd" };
        var schedule = new Option<string?>("--schedule") { Description = "Override the schedule: none, onecycle, cosine or step" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, shuffling and augmentation", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int?>("--threads") { Description = "Kernel threads (default: CONVKIT_NUM_THREADS or all cores)" };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N training images (quick runs)" };

        var cmd = new Command("train", "Train a model") { model, data, dataDir, recipe, epochs, batch, lr, optimizer, schedule, seed, threads, limit };
        cmd.SetAction(parse => CliRunner.Run("train", () =>
        {
            {
                if (parse.GetValue(threads) is int t) Engine.Threads = t;
                var r = ClassifierRecipe.Named(parse.GetValue(recipe)!);
                r = r with
                {
                    Epochs = parse.GetValue(epochs) ?? r.Epochs,
                    BatchSize = parse.GetValue(batch) ?? r.BatchSize,
                    Lr = parse.GetValue(lr) ?? r.Lr,
                    Optimizer = parse.GetValue(optimizer) ?? r.Optimizer,
                    Schedule = parse.GetValue(schedule) ?? r.Schedule,
                    Seed = parse.GetValue(seed),
                };
                if (parse.GetValue(data) != "fashion-mnist")
                    throw new ArgumentException($"unknown dataset '{parse.GetValue(data)}'; available: fashion-mnist");
                var dir = parse.GetValue(dataDir);
                var train = FashionMnist.Load(dir, train: true).Normalize(FashionMnist.Mean, FashionMnist.Std);
                var test = FashionMnist.Load(dir, train: false).Normalize(FashionMnist.Mean, FashionMnist.Std);
                if (parse.GetValue(limit) is int n && n < train.Count)
                    train = new TensorDataset(train.Images.Narrow(0, 0, n).Contiguous(), LongTensor.FromArray(train.Labels.ToArray()[..n], n));
                // One generator initialises the model and then shuffles, as torch.manual_seed(seed) does in a PyTorch script.
                var generator = new Generator(r.Seed);
                Module net;
                using (Generator.Use(generator))
                    net = parse.GetValue(model) switch
                    {
                        "se-cnn" => new SmallSECnn(),
                        var m => throw new ArgumentException($"unknown model '{m}'; available: se-cnn"),
                    };
                Console.WriteLine($"convkit train: {parse.GetValue(model)} on fashion-mnist ({train.Count} train / {test.Count} test images), " +
                                  $"{net.ParameterCount():N0} parameters, {Engine.Threads} threads, recipe {r}");
                var results = new ClassifierTrainer(net, r, Console.WriteLine).Fit(train, test, generator);
                Console.WriteLine($"final test accuracy {results[^1].Metrics["accuracy"]:P2}, median epoch {Median(results.Select(e => e.Seconds)):F1} s");
                return 0;
            }
        }));
        return cmd;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length == 0 ? 0 : v[v.Length / 2];
    }
}
