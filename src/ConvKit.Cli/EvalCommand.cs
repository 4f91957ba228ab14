using System.CommandLine;
using System.Globalization;
using ConvKit.Serialization;
using ConvKit.Vision.Data;
using ConvKit.Vision.Models;
using ConvKit.Vision.Training;

namespace ConvKit.Cli;

/// <summary><c>convkit eval</c>: rebuilds a checkpoint's model and prints its metrics on a dataset split.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = CliOptions.Checkpoint();
        var data = new Option<string>("--data") { Description = $"Dataset: {string.Join(", ", CliDatasets.Names)}", DefaultValueFactory = _ => "shapes" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder of the dataset's files (fashion-mnist, cifar10)" };
        var split = new Option<string>("--split") { Description = "train or val (the test set of fashion-mnist and cifar10)", DefaultValueFactory = _ => "val" };
        var count = new Option<int?>("--count") { Description = "Number of images (shapes: default 64; others: the first N, default all)" };
        var size = new Option<int>("--image-size") { Description = "Side of the generated shapes images", DefaultValueFactory = _ => 64 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the generated shapes dataset", DefaultValueFactory = _ => 0UL };
        var batch = new Option<int>("--batch-size") { Description = "Images per forward pass", DefaultValueFactory = _ => 32 };

        var cmd = new Command("eval", "Evaluate a checkpoint on a dataset split") { checkpoint, data, dataDir, split, count, size, seed, batch };
        cmd.SetAction(parse => CliRunner.Run("eval", () =>
        {
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1) throw new ArgumentException($"--batch-size must be at least 1, got {batchSize}");
            var model = CliOptions.LoadModel(parse, checkpoint);
            var dataset = CliDatasets.Resolve(new DatasetRequest(parse.GetValue(data)!, parse.GetValue(split)!, parse.GetValue(dataDir),
                parse.GetValue(count), parse.GetValue(size), parse.GetValue(seed)));
            CheckFits(model, dataset);
            Console.WriteLine($"{model.Spec.Name} ({model.Spec.Task.ToString().ToLowerInvariant()}, {model.NumClasses} classes){Epoch(parse.GetValue(checkpoint)!)} on {dataset.Description}");
            switch (dataset)
            {
                case SegmentationData seg:
                    var normalized = new TransformedDataset<SegmentationSample>(seg.Samples, (s, _) => s with { Image = model.Normalize(s.Image) }, new Generator(0));
                    var cm = SegmentationTrainer.Evaluate(model.Module, normalized, model.NumClasses, batchSize: batchSize);
                    Console.Write(cm.Format(seg.ClassNames));
                    break;
                case ClassificationData cls:
                    double accuracy = ClassifierTrainer.Evaluate(model.Module, cls.Samples.Normalize(model.Mean, model.Std));
                    Console.WriteLine(FormattableString.Invariant($"accuracy {accuracy:P2} ({cls.Samples.Count} images)"));
                    break;
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>The model must solve the dataset's task with its number of classes and image channels.</summary>
    private static void CheckFits(TrainedModel model, CliDataset dataset)
    {
        var (task, channels) = dataset switch
        {
            SegmentationData s => (ModelTask.Segmentation, s.Samples.Count > 0 ? s.Samples[0].Image.Size(0) : model.InChannels),
            ClassificationData c => (ModelTask.Classification, c.Samples.ImageShape[0]),
            _ => throw new InvalidOperationException(),
        };
        string name = dataset.Name;
        if (model.Spec.Task != task)
            throw new ArgumentException($"{model.Spec.Name} is a {model.Spec.Task.ToString().ToLowerInvariant()} model; dataset {name} is for {task.ToString().ToLowerInvariant()}");
        if (model.NumClasses != dataset.ClassNames.Count)
            throw new ArgumentException($"the checkpoint's model predicts {model.NumClasses} classes; dataset {name} has {dataset.ClassNames.Count}");
        if (model.InChannels != channels)
            throw new ArgumentException($"the checkpoint's model expects {model.InChannels}-channel images; dataset {name} has {channels}");
    }

    private static string Epoch(string path) =>
        Checkpoint.ReadInfo(path).TryGetValue("convkit.epoch", out var e) && int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out int epoch)
            ? $", epoch {epoch}" : "";
}
