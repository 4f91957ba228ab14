using ConvKit.Nn;
using ConvKit.Optim;
using ConvKit.Vision.Models;
using Xunit;

namespace ConvKit.Vision.Tests.Models;

/// <summary>
/// Each model trains bit for bit the same with every step in a <see cref="TensorScope"/> (plain, or one whose
/// backward recycles the activations it has passed) as without: recycled storage never reaches a tensor still in use. Released storage is poisoned in this suite, so any read after
/// release would turn the scoped run's numbers into NaN.
/// </summary>
public class ScopedTrainingTests
{
    public static IEnumerable<object[]> Models() => new[] { "unet", "smallsecnn", "resnet18", "fcn-resnet18" }.Select(n => new object[] { n });

    [Theory, MemberData(nameof(Models))]
    public void Three_scoped_steps_equal_three_unscoped_steps(string name)
    {
        var plain = Train(name, Scope.None);
        foreach (var mode in new[] { Scope.Plain, Scope.Training })
        {
            var scoped = Train(name, mode);
            Assert.Equal(plain.Losses, scoped.Losses);
            Assert.All(scoped.Losses, l => Assert.True(float.IsFinite(l)));
            Assert.Equal(plain.State.Keys, scoped.State.Keys);
            foreach (var (key, values) in plain.State)
                Assert.True(values.SequenceEqual(scoped.State[key]), $"{name}: {key} differs between the {mode} scoped and unscoped runs");
        }
    }

    private enum Scope { None, Plain, Training }

    private static (float[] Losses, Dictionary<string, float[]> State) Train(string name, Scope mode)
    {
        Module model;
        using (Generator.Use(new Generator(11)))
            model = name switch
            {
                "unet" => new UNet(),
                "smallsecnn" => new SmallSECnn(),
                "resnet18" => ResNet.ResNet18(numClasses: 7),
                _ => new FcnResNet18(numClasses: 3),
            };
        model.Train();
        bool dense = name is "unet" or "fcn-resnet18";
        int classes = name switch { "unet" => 2, "fcn-resnet18" => 3, "resnet18" => 7, _ => 10 };
        int[] input = name switch { "smallsecnn" => [6, 1, 28, 28], _ => [2, 3, 32, 32] };
        // Adam for the segmentation nets (its moments live in optimizer state), SGD with momentum for the classifiers.
        Optimizer opt = dense ? new Adam(model.Parameters(), 1e-3) : new SGD(model.Parameters(), 0.01, momentum: 0.9);
        var losses = new float[3];
        for (int step = 0; step < 3; step++)
        {
            Tensor x;
            LongTensor y;
            using (Generator.Use(new Generator((ulong)(50 + step))))
            {
                x = Tensor.Randn(input);
                int[] labelShape = dense ? [input[0], input[2], input[3]] : [input[0]];
                var u = Tensor.Rand(labelShape).ToArray();
                y = LongTensor.FromArray(u.Select(v => (long)Math.Min(classes - 1, v * classes)).ToArray(), labelShape);
            }
            using var scope = mode switch { Scope.Plain => TensorScope.Begin(), Scope.Training => TensorScope.BeginTraining(), _ => null };
            opt.ZeroGrad(setToNone: false);
            var logits = model.Forward(x);
            var loss = dense ? F.CrossEntropy(logits, y) + F.DiceLoss(logits, y) * 0.5f : F.CrossEntropy(logits, y);
            loss.Backward();
            opt.Step();
            losses[step] = loss.Item();   // the root of backward stays readable in a training scope
        }
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        foreach (var (i, s) in opt.StateDict().State)
            foreach (var (key, t) in s)
                state[$"opt.{i}.{key}"] = t.Data;
        return (losses, state);
    }
}
