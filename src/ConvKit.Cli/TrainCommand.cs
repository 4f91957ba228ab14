using System.CommandLine;
using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using ConvKit.Vision.Training;

namespace ConvKit.Cli;

/// <summary>
/// <c>convkit train</c>: trains a named model on a named dataset, with a progress bar, a checkpoint, the weights and
/// metrics.csv in the output folder after every epoch, <c>--resume</c> from the last complete epoch, and, for
/// segmentation, a few prediction overlays at the end; <c>--init</c> starts from PyTorch weights (fine-tuning). With no
/// arguments: the small UNet on synthetic shapes.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model: " + string.Join(", ", ModelRegistry.All.Select(m => m.Name)), DefaultValueFactory = _ => "unet-small" };
        var data = new Option<string>("--data") { Description = "Dataset: " + string.Join(", ", CliDatasets.Names), DefaultValueFactory = _ => "shapes" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Dataset folder (voc: VOC2012; fashion-mnist: IDX files, default $CONVKIT_FASHION_MNIST then /usr/share/datasets/fashion-mnist; cifar10: the binary batches)" };
        var recipe = new Option<string>("--recipe") { Description = "Classification recipe: default (AdamW, one-cycle, label smoothing, crops) or parity (PyTorch peer: Adam 1e-3, 3 epochs)", DefaultValueFactory = _ => "default" };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (default: the recipe's)" };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size (default: the recipe's)" };
        var lr = new Option<double?>("--lr") { Description = "(Peak) learning rate (default: the recipe's)" };
        var optimizer = new Option<string?>("--optimizer") { Description = "adam, adamw or sgd (default: the recipe's)" };
        var schedule = new Option<string?>("--schedule") { Description = "none, onecycle, cosine or step (default: the recipe's)" };
        var dice = new Option<float?>("--dice-weight") { Description = "Segmentation: weight of the soft Dice loss added to cross-entropy (default: the recipe's 1)" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, shuffling, augmentation and synthetic data", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int?>("--threads") { Description = "Kernel threads (default: CONVKIT_NUM_THREADS or all cores)" };
        var count = new Option<int?>("--train-count") { Description = "Training images: shapes generates this many (default 2600; validation gets a tenth, at least 64); other datasets use the first N" };
        var size = new Option<int>("--image-size") { Description = "shapes: image height and width; voc: crop size", DefaultValueFactory = _ => 32 };
        var output = new Option<string?>("--out") { Description = "Output folder for checkpoint.safetensors, model.safetensors, metrics.csv and overlays (default runs/<model>-<data>)" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the output folder's checkpoint (the last complete epoch)" };
        var init = new Option<string?>("--init") { Description = "Start from these weights: a safetensors state_dict by PyTorch's names (e.g. saved from PyTorch), loaded strictly (--resume's checkpoint wins over it)" };
        var initNonStrict = new Option<bool>("--init-non-strict") { Description = "With --init: skip tensors whose shape differs (another head) and keys either side lacks, and list them" };

        var cmd = new Command("train", "Train a model (default: the small UNet on embedded synthetic shapes)")
            { model, data, dataDir, recipe, epochs, batch, lr, optimizer, schedule, dice, seed, threads, count, size, output, resume, init, initNonStrict };
        cmd.SetAction(parse => CliRunner.Run("train", () =>
        {
            if (parse.GetValue(threads) is int t) Engine.Threads = t;
            var spec = ModelRegistry.Get(parse.GetValue(model)!);
            ulong s = parse.GetValue(seed);
            string name = parse.GetValue(data)!;
            int? n = parse.GetValue(count) ?? (name == "shapes" ? 2600 : null);
            var train = CliDatasets.Resolve(new DatasetRequest(name, "train", parse.GetValue(dataDir), n, parse.GetValue(size), s));
            var val = CliDatasets.Resolve(new DatasetRequest(name, "val", parse.GetValue(dataDir), name == "shapes" ? Math.Max(64, n!.Value / 10) : null, parse.GetValue(size), s));
            var task = train is SegmentationData ? ModelTask.Segmentation : ModelTask.Classification;
            if (spec.Task != task)
                throw new ArgumentException($"model '{spec.Name}' is for {spec.Task.ToString().ToLowerInvariant()}, dataset '{name}' is for {task.ToString().ToLowerInvariant()}");
            string outDir = parse.GetValue(output) ?? Path.Combine("runs", $"{spec.Name}-{name}");
            // One generator initialises the model and then shuffles, as torch.manual_seed(seed) does in a PyTorch script.
            var generator = new Generator(s);
            TrainedModel net;
            using (Generator.Use(generator)) net = TrainedModel.Create(spec, train.InChannels, train.ClassNames.Count, train.ClassNames, train.Mean, train.Std);
            if (parse.GetValue(init) is string initPath) InitWeights.Load(net.Module, initPath, strict: !parse.GetValue(initNonStrict));
            else if (parse.GetValue(initNonStrict)) throw new ArgumentException("--init-non-strict needs --init");
            TrainRecipe baseRecipe = spec.Task == ModelTask.Segmentation ? SegmentationRecipe.Default : ClassifierRecipe.Named(parse.GetValue(recipe)!);
            var r = baseRecipe with
            {
                Epochs = parse.GetValue(epochs) ?? baseRecipe.Epochs,
                BatchSize = parse.GetValue(batch) ?? baseRecipe.BatchSize,
                Lr = parse.GetValue(lr) ?? baseRecipe.Lr,
                Optimizer = parse.GetValue(optimizer) ?? baseRecipe.Optimizer,
                Schedule = parse.GetValue(schedule) ?? baseRecipe.Schedule,
                Seed = s,
            };
            if (r is SegmentationRecipe seg) r = seg with { DiceWeight = parse.GetValue(dice) ?? seg.DiceWeight };
            else if (parse.GetValue(dice) is not null) throw new ArgumentException("--dice-weight applies to segmentation models only");
            r.Validate();
            Console.WriteLine($"convkit train: {spec.Name} on {train.Description}, {net.Module.ParameterCount():N0} parameters, {Engine.Threads} threads, " +
                              $"{r.Epochs} epochs of batch {r.BatchSize}, {r.Optimizer} lr {r.Lr} ({r.Schedule}); output {outDir}");
            bool resuming = parse.GetValue(resume);
            var reports = TrainProgressView.Run(view => train is SegmentationData seg
                ? TrainSegmentation(net, seg, (SegmentationData)val, (SegmentationRecipe)r, outDir, generator, view, resuming)
                : TrainClassifier(net, (ClassificationData)train, (ClassificationData)val, (ClassifierRecipe)r, outDir, generator, view, resuming));
            if (val is SegmentationData segVal) WriteOverlays(net, segVal.Samples, Path.Combine(outDir, "overlays"));
            if (reports.Count == 0)
            {
                Console.WriteLine($"nothing to train: the checkpoint in {outDir} already covers {r.Epochs} epochs");
                return 0;
            }
            var last = reports[^1];
            Console.WriteLine($"done: {string.Join(", ", last.Metrics.Select(m => $"{m.Key} {m.Value:F4}"))} after {last.Epoch} epochs; " +
                              $"median epoch {Median(reports.Select(e => e.Seconds)):F1} s; checkpoint {Path.Combine(outDir, TrainOutputs.CheckpointFile)}");
            return 0;
        }));
        return cmd;
    }

    private static IReadOnlyList<EpochReport> TrainSegmentation(TrainedModel net, SegmentationData train, SegmentationData valData, SegmentationRecipe r, string outDir,
        Generator generator, TrainProgressView view, bool resume)
    {
        var normalize = SegmentationTransforms.Normalize(net.Mean, net.Std);
        var val = new TransformedDataset<SegmentationSample>(valData.Samples, normalize, new Generator(0));
        var trainer = new SegmentationTrainer(net.Module, r, net.NumClasses)
        {
            OutputDir = outDir, Info = net.Info(), OnStep = view.Step,
            Augment = SegmentationTransforms.Compose(SegmentationTransforms.RandomHorizontalFlip(), normalize),
        };
        return trainer.Fit(train.Samples, val, generator, view.Epoch, resume);
    }

    private static IReadOnlyList<EpochReport> TrainClassifier(TrainedModel net, ClassificationData train, ClassificationData val, ClassifierRecipe r, string outDir,
        Generator generator, TrainProgressView view, bool resume)
    {
        var trainer = new ClassifierTrainer(net.Module, r) { OutputDir = outDir, Info = net.Info(), OnStep = view.Step };
        return trainer.Fit(train.Samples.Normalize(net.Mean, net.Std), val.Samples.Normalize(net.Mean, net.Std), generator, view.Epoch, resume);
    }

    /// <summary>Writes the first validation images with their predicted masks drawn over them.</summary>
    private static void WriteOverlays(TrainedModel net, IDataset<SegmentationSample> val, string dir, int count = 4)
    {
        net.Module.Eval();
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < Math.Min(count, val.Count); i++)
        {
            var s = val[i];
            var prediction = net.Module.Forward(net.Normalize(s.Image).Unsqueeze(0)).Argmax(1).Reshape(s.Mask.Shape.ToArray());
            ImageFile.WritePng(Path.Combine(dir, $"val{i:D2}_prediction.png"), Overlay.Draw(s.Image, prediction));
            ImageFile.WritePng(Path.Combine(dir, $"val{i:D2}_truth.png"), Overlay.Draw(s.Image, s.Mask));
        }
        Console.WriteLine($"overlays of {Math.Min(count, val.Count)} validation images: {dir}");
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length == 0 ? 0 : v[v.Length / 2];
    }
}
