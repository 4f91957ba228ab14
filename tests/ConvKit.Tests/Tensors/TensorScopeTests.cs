using ConvKit.Nn;
using ConvKit.Optim;
using ConvKit.Tests.Kernels;
using Xunit;

namespace ConvKit.Tests.Tensors;

/// <summary>
/// TensorScope and the backward pass recycle storage: what a scope made comes back when it ends, what long-lived
/// objects hold does not, and nothing still in use is ever handed out again. The suite runs with released storage
/// poisoned (NaN), so an early release shows as NaN in these checks.
/// </summary>
[Collection(ForceScalarCollection.Name)]
public class TensorScopeTests
{
    // Odd lengths that no other test allocates, so the process-wide pool cannot hand these arrays to a parallel test.
    private const int Length = 1031 * 7;

    [Fact]
    public void Storage_released_by_a_scope_is_reused_for_the_next_tensor_of_that_size()
    {
        float[] first;
        using (TensorScope.Begin()) first = Tensor.Zeros(Length).Storage;
        Assert.True(float.IsNaN(first[0]), "released storage is poisoned");
        using (TensorScope.Begin())
        {
            var again = Tensor.Zeros(Length);
            Assert.Same(first, again.Storage);
            Assert.All(again.ToArray(), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Keep_moves_a_tensor_to_the_enclosing_scope_and_out_of_the_outermost()
    {
        Tensor kept, leaves;
        using (var outer = TensorScope.Begin())
        {
            using (var inner = TensorScope.Begin())
            {
                kept = inner.Keep(Tensor.Full([Length + 2], 3f));
                leaves = Tensor.Full([Length + 2], 4f);
            }
            Assert.All(kept.ToArray(), v => Assert.Equal(3f, v));
            Assert.True(float.IsNaN(leaves.Storage[0]));
            var escaped = outer.Keep(Tensor.Full([Length + 4], 5f));
            outer.Dispose();
            Assert.All(escaped.ToArray(), v => Assert.Equal(5f, v));
        }
        Assert.True(float.IsNaN(kept.Storage[0]), "the outer scope recycles what the inner one kept");
    }

    [Fact]
    public void A_view_shares_its_base_lifetime()
    {
        Tensor view;
        using (var scope = TensorScope.Begin())
            view = scope.Keep(Tensor.Full([7, 1031], 2f).Narrow(0, 2, 3));
        Assert.All(view.ToArray(), v => Assert.Equal(2f, v));
    }

    [Fact]
    public void Long_tensors_are_scoped_too()
    {
        LongTensor kept;
        Tensor values;
        using (var scope = TensorScope.Begin())
        {
            var x = Tensor.Arange(2 * Length).Reshape(2, Length);
            (values, var idx) = x.Max(1);
            kept = scope.Keep(F.MaxPool2dWithIndices(x.Reshape(1, 1, 2, Length), (1, 1)).Indices);
            Assert.Equal(Length - 1, idx.ToArray()[0]);
        }
        Assert.Equal(Enumerable.Range(0, 2 * Length).Select(i => (long)i), kept.ToArray());
    }

    [Fact]
    public void Small_tensors_are_left_to_the_gc()
    {
        Tensor small;
        using (TensorScope.Begin()) small = Tensor.Full([TensorPool.MinLength - 1], 6f);
        Assert.All(small.ToArray(), v => Assert.Equal(6f, v));
    }

    [Fact]
    public void Scopes_end_innermost_first_on_their_own_thread()
    {
        var outer = TensorScope.Begin();
        var inner = TensorScope.Begin();
        var e = Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        Assert.Contains("innermost first", e.Message);
        inner.Dispose();
        inner.Dispose();
        outer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => outer.Keep(Tensor.Zeros(3)));

        var mine = TensorScope.Begin();
        Exception? other = null;
        // A thread of its own: a Task could run inline on this one.
        var thread = new Thread(() => other = Record.Exception(mine.Dispose));
        thread.Start();
        thread.Join();
        Assert.IsType<InvalidOperationException>(other);
        Assert.Contains("another thread", other.Message);
        mine.Dispose();
    }

    [Fact]
    public void Parameters_buffers_gradients_and_optimizer_state_outlive_the_scope()
    {
        var (model, opt) = NewNet();
        using (TensorScope.Begin()) Step(model, opt, Batch(0));
        var reference = NewNet();
        Step(reference.Model, reference.Opt, Batch(0));
        // A second step reads the momentum buffers, the running statistics and the zeroed-in-place gradients.
        using (TensorScope.Begin()) Step(model, opt, Batch(1));
        Step(reference.Model, reference.Opt, Batch(1));
        var ours = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (name, t) in reference.Model.StateDict())
            Assert.Equal(t.ToArray(), ours[name].ToArray());
        var grads = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        Assert.Equal(reference.Model.Parameters().Select(p => p.Grad!.ToArray()), grads);
        Assert.Equal(reference.Opt.StateDict().State.Count, opt.StateDict().State.Count);
        foreach (var (i, s) in reference.Opt.StateDict().State)
            Assert.Equal(s["momentum_buffer"].Data, opt.StateDict().State[i]["momentum_buffer"].Data);
    }

    [Fact]
    public void A_module_built_inside_a_scope_keeps_its_weights()
    {
        Sequential model;
        using (TensorScope.Begin())
            using (Generator.Use(new Generator(1)))
                model = new Sequential(new Conv2d(3, 40, 3), new BatchNorm2d(40), new Linear(1100, 2));
        Assert.All(model.StateDict().Select(kv => kv.Value), t => Assert.DoesNotContain(t.ToArray(), float.IsNaN));
    }

    private static (Sequential Model, SGD Opt) NewNet()
    {
        Sequential model;
        using (Generator.Use(new Generator(5)))
            model = new Sequential(new Conv2d(3, 40, 3, padding: 1), new BatchNorm2d(40), new ReLU(), new MaxPool2d(2),
                                   new Conv2d(40, 40, 3, padding: 1), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(40, 3));
        return (model, new SGD(model.Parameters(), 0.05, momentum: 0.9));
    }

    private static (Tensor X, LongTensor Y) Batch(int seed)
    {
        using (Generator.Use(new Generator((ulong)(100 + seed))))
            return (Tensor.Randn(4, 3, 18, 18), LongTensor.FromArray(new long[] { 0, 2, 1, seed % 3 }, 4));
    }

    private static float Step(Module model, Optimizer opt, (Tensor X, LongTensor Y) batch)
    {
        opt.ZeroGrad(setToNone: false);
        var loss = F.CrossEntropy(model.Forward(batch.X), batch.Y);
        loss.Backward();
        opt.Step();
        return loss.Item();
    }
}

/// <summary>The backward pass recycles the gradients between nodes and the closures' temporaries as soon as nothing reads them.</summary>
public class BackwardRecyclingTests
{
    private static Tensor Leaf(float start) => (Tensor.Arange(start, start + 2048).Reshape(2, 1024) * 0.001f).RequiresGrad_();

    [Fact]
    public void A_gradient_passed_through_to_several_inputs_is_not_recycled_while_one_still_reads_it()
    {
        var a = Leaf(0);
        var b = Leaf(1);
        // add hands the same gradient to both inputs; clone passes it through; x + x hands it to one input twice.
        var y = (a + b).Clone() + (a + a);
        (y * y).Sum().Backward();
        var av = a.ToArray();
        var bv = b.ToArray();
        var dy = av.Zip(bv, (p, q) => 2 * (3 * p + q)).ToArray();
        Assert.Equal(dy.Select(v => 3 * v), a.Grad!.ToArray(), new ToleranceComparer(1e-5f));
        Assert.Equal(dy, b.Grad!.ToArray(), new ToleranceComparer(1e-5f));
    }

    [Fact]
    public void A_tensor_used_many_times_sums_its_gradients_whether_in_place_or_not()
    {
        var a = Leaf(2);
        var h = a * 2f;                                  // non-leaf, read by four consumers
        var y = h * 3f + h.Clone() + (h + h) + h.Exp();  // the pass-through and the doubled use share gradients
        y.Sum().Backward();
        var expected = a.ToArray().Select(v => 2 * (3 + 1 + 2 + MathF.Exp(2 * v))).ToArray();
        Assert.Equal(expected, a.Grad!.ToArray(), new ToleranceComparer(1e-5f));
    }

    [Fact]
    public void Gradients_accumulate_in_place_over_retained_passes()
    {
        var x = Leaf(3);
        var y = (x * x).Narrow(1, 10, 1000).Sum();
        y.Backward(retainGraph: true);
        var first = x.Grad!;
        var once = first.ToArray();
        y.Backward();
        Assert.Same(first, x.Grad);
        Assert.Equal(once.Select(v => 2 * v), x.Grad!.ToArray());
        var xv = x.ToArray();
        for (int i = 0; i < xv.Length; i++)
            Assert.Equal(i % 1024 is >= 10 and < 1010 ? 2 * xv[i] : 0f, once[i], 1e-5f);
    }

    [Fact]
    public void A_user_supplied_root_gradient_is_left_alone()
    {
        var x = Leaf(5);
        var g = Tensor.Full([2, 1024], 0.5f);
        (x * 3f).Backward(g);
        Assert.All(g.ToArray(), v => Assert.Equal(0.5f, v));
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(1.5f, v));
    }

    [Fact]
    public void A_training_scope_recycles_passed_activations_during_backward_but_not_the_root_or_kept_tensors()
    {
        var w = Leaf(7);
        Tensor hidden, kept, loss;
        float[] expected;
        using (var scope = TensorScope.BeginTraining())
        {
            var x = Tensor.Full([2, 1024], 2f);
            hidden = (x * w).Exp();
            kept = scope.Keep(hidden * 3f);
            expected = kept.ToArray();
            var before = hidden.ToArray();
            loss = (hidden * kept).Sum();
            loss.Backward();
            // Recycled: poisoned, or already reused by a later gradient.
            Assert.NotEqual(before, hidden.ToArray());
            Assert.Equal(expected, kept.ToArray());
            Assert.True(float.IsFinite(loss.Item()));
            // loss = Σ 3h², h = exp(2w), kept = 3h: dloss/dw = 6h · 2h = 4·kept²/3.
            Assert.Equal(expected.Select(v => 4 * v * v / 3), w.Grad!.ToArray(), new ToleranceComparer(1e-5f));
        }
    }

    [Fact]
    public void Retaining_the_graph_recycles_no_activation()
    {
        var w = Leaf(9);
        using (TensorScope.BeginTraining())
        {
            var hidden = (w * 2f).Exp();
            var loss = hidden.Sum();
            loss.Backward(retainGraph: true);
            var h = hidden.ToArray();
            Assert.DoesNotContain(h, float.IsNaN);
            loss.Backward();
            Assert.Equal(h.Select(v => 4 * v), w.Grad!.ToArray(), new ToleranceComparer(1e-5f));
        }
    }

    private sealed class ToleranceComparer(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float p, float q) => Math.Abs(p - q) <= tol * Math.Max(1, Math.Abs(q));
        public int GetHashCode(float v) => 0;
    }
}

/// <summary>
/// A steady-state training step in a TensorScope allocates nothing proportional to tensor sizes. Not parallel
/// with other tests: they would rent from the same pool between the measured steps.
/// </summary>
[Collection(Name)]
public class ScopedStepAllocationTests
{
    public const string Name = "TensorPool steady state";

    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class Definition;

    [Fact]
    public void A_scoped_training_step_allocates_the_same_few_bytes_at_any_batch_size()
    {
        long small = StepBytes(batch: 2), large = StepBytes(batch: 16);
        // Batch 16 moves about 8 MB of activations and gradients per step; what the GC still sees is shapes,
        // closures and small per-channel arrays, which do not grow with the batch.
        Assert.True(small < 512 * 1024, $"batch 2 step allocated {small} bytes");
        Assert.True(large < small + 64 * 1024, $"batch 16 step allocated {large} bytes against {small} at batch 2");
    }

    private static long StepBytes(int batch)
    {
        Sequential model;
        using (Generator.Use(new Generator(9)))
            model = new Sequential(new Conv2d(3, 32, 3, padding: 1, bias: false), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
                                   new Conv2d(32, 32, 3, padding: 1), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(32, 5));
        var opt = new Adam(model.Parameters(), 1e-3);
        var x = Tensor.Randn(batch, 3, 30, 30);
        var y = LongTensor.FromArray(Enumerable.Range(0, batch).Select(i => (long)(i % 5)).ToArray(), batch);
        void Step()
        {
            using var scope = TensorScope.Begin();
            opt.ZeroGrad(setToNone: false);
            F.CrossEntropy(model.Forward(x), y).Backward();
            opt.Step();
        }
        for (int i = 0; i < 3; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
