// QuickStart: the tutorials' convolution examples, then a kernel learned by gradient descent.
using System.Diagnostics;
using ConvKit;

Console.WriteLine("ConvKit QuickStart\n");

// Multi-input-channel cross-correlation (tutorial 001).
var x = Tensor.FromArray([0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2, 3, 3);
var k = Tensor.FromArray([0, 1, 2, 3, 1, 2, 3, 4], 1, 2, 2, 2);
Console.WriteLine($"conv2d over two input channels:\n{F.Conv2d(x, k)}\n");

// Transposed convolution with stride 2 (tutorial 002).
var small = Tensor.FromArray([0, 1, 2, 3], 1, 1, 2, 2);
Console.WriteLine($"conv_transpose2d, stride 2:\n{F.ConvTranspose2d(small, small, stride: 2)}\n");

// Convolution as a matrix: conv(x) = W·vec(x), conv_transpose(y) = Wᵀ·vec(y).
var kernel = Tensor.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
Console.WriteLine($"conv matrix of a 2×2 kernel on 3×3 input:\n{ConvMatrix.ForConv2d(kernel, 3, 3)}\n");

// Learn an edge-detection kernel from input/output pairs (the classic "learning a kernel" exercise):
// X has a vertical band, Y = conv(X, [1, -1]); start from a random kernel and fit it with plain SGD.
var img = Tensor.Ones(1, 1, 6, 8);
for (int i = 0; i < 6; i++) for (int j = 2; j < 6; j++) img[0, 0, i, j] = 0;
var target = F.Conv2d(img, Tensor.FromArray([1, -1], 1, 1, 1, 2));
var learned = Tensor.Randn([1, 1, 1, 2], new Generator(0)).RequiresGrad_();
var sw = Stopwatch.StartNew();
for (int step = 1; step <= 20; step++)
{
    var loss = (F.Conv2d(img, learned) - target).Pow(2).Sum();
    learned.Grad = null;
    loss.Backward();
    using (Autograd.NoGrad())
        StepInPlace(learned, 0.03f);
    if (step % 5 == 0) Console.WriteLine($"step {step,2}: loss {loss.Item():F4}");
}
Console.WriteLine($"learned kernel: {learned.Detach()} (true kernel [1, -1]) in {sw.ElapsedMilliseconds} ms");

static void StepInPlace(Tensor p, float lr)
{
    var updated = (p.Detach() - p.Grad! * lr).ToArray();
    for (int i = 0; i < updated.Length; i++) p[0, 0, 0, i] = updated[i];
}
