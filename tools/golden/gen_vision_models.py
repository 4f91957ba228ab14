#!/usr/bin/python3
"""Golden values for ConvKit.Vision.Models: UNet (SeedUNet of shared/peer/peer_models.py and a PyTorch
transcription of ConvKit's configurable UNet: any depth, odd sizes, sigmoid attention, atrous pyramid),
torchvision's ResNet18/34, SE-ResNet, FCN-ResNet18 (peer fcn_resnet18 + the tutorial's bilinear kernel) and the
bilinear 2x upsampler. Writes tests/ConvKit.Vision.Tests/Fixtures/models/<section>.json.gz.

Run with Debian's PyTorch:  /usr/bin/python3 tools/golden/gen_vision_models.py [unet] [resnet] [fcn] [upsample]

Inputs are not stored: they come from the shared splitmix64 `prng` of gen_golden.py (seed in the fixture).
Models are built right after torch.manual_seed(seed). Big tensors are stored as summaries: the first 8 values,
sum, |sum| and every `stride`-th value ("sample"). The gzip header has no timestamp, so reruns are byte-identical.
"""
import gzip
import json
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock
from torchvision.models.segmentation.deeplabv3 import ASPPConv, ASPPPooling

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = ROOT / "tests" / "ConvKit.Vision.Tests" / "Fixtures" / "models"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT.parent / "shared" / "peer"))
from gen_nn import seeded, t  # noqa: E402  (full-tensor JSON and the shared splitmix64 inputs)
from peer_models import SE, SeedUNet, fcn_resnet18  # noqa: E402

torch.set_num_threads(1)


def summary(x, samples=0):
    """first 8, sum, |sum|; with samples > 0 also every stride-th value (about `samples` of them)."""
    shape = list(x.shape)
    x = x.detach().double().reshape(-1)
    s = {"shape": shape, "first": [float(v) for v in x[:8].tolist()], "sum": float(x.sum()), "abssum": float(x.abs().sum())}
    if samples:
        stride = max(1, x.numel() // samples)
        s["stride"] = stride
        s["sample"] = [float(v) for v in x[::stride].float().tolist()]
    return s


def names(m):
    return {"parameter_names": [n for n, _ in m.named_parameters()], "buffer_names": [n for n, _ in m.named_buffers()],
            "state": {k: summary(v) for k, v in m.state_dict().items()}}


def running(m):
    return {k: summary(v) for k, v in m.state_dict().items() if "running" in k or "num_batches" in k}


def bias_term_scales(m):
    """For each conv bias, max over channels of sum |dL/d out| over N, H, W: the size of the terms its gradient
    sums. A bias followed (through ReLU) by a train-mode BN has a gradient that cancels to ~0, so only float32
    rounding relative to this scale is meaningful for it (tests allow 1e-6 of it on top of the usual tolerance)."""
    grads = {}

    def hook(name):
        def on_forward(mod, inp, out):
            out.register_hook(lambda g: grads.__setitem__(name, float(g.abs().sum(dim=(0, 2, 3)).max())))
        return on_forward
    for name, mod in m.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)) and mod.bias is not None:
            mod.register_forward_hook(hook(name + ".bias"))
    return {name + ".bias": (lambda name=name: grads[name + ".bias"]) for name, mod in m.named_modules()
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)) and mod.bias is not None}


def run_case(build, seed, shape, input_seed, grad=False, samples=0, train=True, state=True):
    """Builds under manual_seed(seed); train forward (+ running stats), eval forward; gradients on a fresh copy."""
    torch.manual_seed(seed)
    m = build()
    case = {"seed": seed, "input_shape": list(shape), "input_seed": input_seed}
    if state:
        case.update(names(m))
    x = seeded(shape, input_seed)
    out = (lambda y: summary(y, samples)) if samples else t
    if train:
        m.train()
        case["train_output"] = out(m(x))
        case["running_after_train"] = running(m)
    m.eval()
    with torch.no_grad():
        case["eval_output"] = out(m(x))
    if grad:
        torch.manual_seed(seed)
        m = build()
        scales = bias_term_scales(m)
        y = m(x)
        g = seeded(tuple(y.shape), input_seed + 1)
        (y * g).sum().backward()
        case["grad_output_seed"] = input_seed + 1
        case["grads"] = {n: summary(p.grad) for n, p in m.named_parameters()}
        for n, s in scales.items():
            case["grads"][n]["term_scale"] = s()
        # PyTorch's own float32 error (vs the same model in float64) on what is stored: where BN cancels large
        # terms, float32 gradients are only that accurate, and tests allow twice it on top of their tolerance.
        torch.manual_seed(seed)
        m64 = build().double()
        y64 = m64(x.double())
        (y64 * g.double()).sum().backward()
        for n, p in m64.named_parameters():
            e = case["grads"][n]
            g64 = p.grad.reshape(-1)
            e["f32_err"] = float((g64[:8] - torch.tensor(e["first"], dtype=torch.float64)).abs().max())
            e["abssum_f32_err"] = abs(float(g64.abs().sum()) - e["abssum"])
    return case


# ----------------------------------------------------------------------------------------------------------------
# UNet: a transcription of ConvKit.Vision.Models.UNet (equal to SeedUNet for 5 widths, softmax, conv pyramid)
# ----------------------------------------------------------------------------------------------------------------
class ConvPyramid(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(cin, cout, 1), nn.Conv2d(cout, cout, 3, padding=1),
                                    nn.Conv2d(cout, cout, 3, padding=1), nn.Conv2d(cout, cout, 3, padding=1),
                                    nn.Conv2d(cout, cout, 1)])

    def forward(self, x):
        for c in self.convs:
            x = F.relu(c(x))
        return x


class AtrousPyramid(nn.Module):
    """torchvision's ASPP with 3x3 branches at every rate (1, 6, 12, 18), image pooling, 1x1 fuse; no dropout."""
    def __init__(self, cin, cout, rates=(1, 6, 12, 18)):
        super().__init__()
        self.convs = nn.ModuleList([ASPPConv(cin, cout, r) for r in rates] + [ASPPPooling(cin, cout)])
        self.project = nn.Sequential(nn.Conv2d(len(self.convs) * cout, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x):
        return self.project(torch.cat([c(x) for c in self.convs], dim=1))


class ChannelAttention(nn.Module):
    def __init__(self, c, kind):
        super().__init__()
        r = max(1, c // 8)
        self.conv1 = nn.Conv2d(c, r, 1)
        self.conv2 = nn.Conv2d(r, c, 1)
        self.kind = kind

    def forward(self, x):
        e = self.conv2(F.relu(self.conv1(x.mean(dim=(2, 3), keepdim=True))))
        w = torch.softmax(F.relu(e), dim=1) if self.kind == "softmax" else torch.sigmoid(e)
        return w * x


def cbr(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class RefUNet(nn.Module):
    def __init__(self, cin=3, cout=2, widths=(64, 128, 256, 512, 1024), pyramid="conv", attention="softmax"):
        super().__init__()
        w, n = widths, len(widths)
        dec = [w[n - 2 - i] for i in range(n - 1)]
        self.enc = nn.ModuleList([nn.Sequential(cbr(cin, w[0]), cbr(w[0], w[0]))] +
                                 [nn.Sequential(cbr(w[i - 1], w[i], 2), cbr(w[i], w[i])) for i in range(1, n)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(w[n - 1 - i], c, 2, 2) for i, c in enumerate(dec)])
        self.pyr = nn.ModuleList([(ConvPyramid if pyramid == "conv" else AtrousPyramid)(c, c) for c in dec])
        self.att = nn.ModuleList([ChannelAttention(c, attention) for c in dec])
        self.bn1 = nn.ModuleList([nn.BatchNorm2d(2 * c) for c in dec])
        self.conv2 = nn.ModuleList([cbr(2 * c, c) for c in dec])
        self.out = nn.Conv2d(w[0], cout, 1)

    def forward(self, x):
        skips = []
        for e in self.enc:
            x = e(x)
            skips.append(x)
        x = skips.pop()
        for i in range(len(self.up)):
            s = skips.pop()
            x = self.up[i](x)
            x = F.pad(x, [0, s.shape[3] - x.shape[3], 0, s.shape[2] - x.shape[2]])  # crops the odd extra row/column
            x = torch.cat([self.att[i](s), self.pyr[i](x)], dim=1)
            x = self.conv2[i](F.relu(self.bn1[i](x)))
        return self.out(x)


def check_ref_equals_seedunet():
    for widths in [(64, 128, 256, 512, 1024), (16, 32, 64, 128, 256)]:
        torch.manual_seed(5)
        a = SeedUNet(widths=widths)
        torch.manual_seed(5)
        b = RefUNet(widths=widths)
        assert list(a.state_dict()) == list(b.state_dict())
        assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
        x = seeded((2, 3, 32, 48), 1)
        assert torch.equal(a(x), b(x))


def unet():
    check_ref_equals_seedunet()
    small = (16, 32, 64, 128, 256)
    return {
        # SeedUNet itself, default widths: names, init, forward train/eval
        "seedunet": run_case(lambda: SeedUNet(), 0, (2, 3, 32, 32), 610001),
        # SeedUNet with small widths: gradients, on a non-square multiple of 16
        "seedunet_small": run_case(lambda: SeedUNet(widths=small), 1, (2, 3, 32, 48), 610011, grad=True),
        # ConvKit's extensions, through RefUNet
        "odd_depth4": run_case(lambda: RefUNet(3, 3, (16, 32, 64, 128)), 2, (2, 3, 37, 23), 610021, grad=True),
        "tiny_depth3": run_case(lambda: RefUNet(1, 2, (8, 16, 32)), 3, (2, 1, 3, 2), 610031, grad=True),
        "depth1": run_case(lambda: RefUNet(2, 4, (8,)), 4, (2, 2, 5, 6), 610041, grad=True),
        "aspp_sigmoid": run_case(lambda: RefUNet(3, 2, (8, 16, 32), "atrous", "sigmoid"), 5, (2, 3, 20, 18), 610051, grad=True),
        "aspp_softmax": run_case(lambda: RefUNet(3, 2, (16, 32), "atrous", "softmax"), 6, (2, 3, 9, 13), 610061, grad=True),
        "conv_sigmoid": run_case(lambda: RefUNet(3, 2, (8, 16, 32), "conv", "sigmoid"), 7, (2, 3, 17, 16), 610071, grad=True),
    }


# ----------------------------------------------------------------------------------------------------------------
# ResNet, SE-ResNet
# ----------------------------------------------------------------------------------------------------------------
class SEBasicBlock(BasicBlock):
    """BasicBlock with an SE module (peer SE: squeeze/excite 1x1 convs, ceil(C/r)) after bn2, before the add."""
    reduction = 16

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.se = SE(self.bn2.num_features, self.reduction)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        return self.relu(out + identity)


def se_resnet18(num_classes):
    return torchvision.models.resnet.ResNet(SEBasicBlock, [2, 2, 2, 2], num_classes=num_classes)


def resnet():
    # Train-mode cases keep >= 4 values per channel in layer4's BN: at [2, 3, 32, 32] (1x1, two samples) BN is so
    # ill-conditioned that PyTorch's own float32 and float64 outputs differ by 6e-4.
    return {
        "resnet18": run_case(lambda: torchvision.models.resnet18(), 0, (1, 3, 64, 64), 620001),
        "resnet18_grad": run_case(lambda: torchvision.models.resnet18(num_classes=10), 1, (2, 3, 64, 64), 620011,
                                  grad=True, state=False),
        "resnet34": run_case(lambda: torchvision.models.resnet34(num_classes=10), 2, (1, 3, 64, 64), 620021),
        "se_resnet18": run_case(lambda: se_resnet18(10), 3, (2, 3, 64, 64), 620031, grad=True),
    }


# ----------------------------------------------------------------------------------------------------------------
# FCN-ResNet18 and the bilinear upsampler (tutorial 002)
# ----------------------------------------------------------------------------------------------------------------
def bilinear_kernel(in_channels, out_channels, kernel_size):
    """The tutorial's function, verbatim in substance."""
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = (torch.arange(kernel_size).reshape(-1, 1), torch.arange(kernel_size).reshape(1, -1))
    filt = (1 - torch.abs(og[0] - center) / factor) * (1 - torch.abs(og[1] - center) / factor)
    weight = torch.zeros((in_channels, out_channels, kernel_size, kernel_size))
    weight[range(in_channels), range(out_channels), :, :] = filt
    return weight


def fcn_tutorial(num_classes=21):
    net = fcn_resnet18(num_classes)
    net.transpose_conv.weight.data.copy_(bilinear_kernel(num_classes, num_classes, 64))
    return net


def fcn():
    return {
        "fcn21": run_case(lambda: fcn_tutorial(), 0, (1, 3, 64, 64), 630001, samples=600),
        "fcn5_grad": run_case(lambda: fcn_tutorial(5), 1, (2, 3, 32, 64), 630011, grad=True, samples=600, state=False),
    }


def upsample():
    out = []
    for i, shape in enumerate([(3, 5, 7), (2, 3, 4, 6), (1, 1, 1, 1)]):
        c = shape[-3]
        conv_trans = nn.ConvTranspose2d(c, c, kernel_size=4, padding=1, stride=2, bias=False)
        conv_trans.weight.data.copy_(bilinear_kernel(c, c, 4))
        x = seeded(shape, 640001 + i)
        x.requires_grad_(True)
        y = conv_trans(x)
        g = seeded(tuple(y.shape), 640101 + i)
        (y * g).sum().backward()
        out.append({"input_shape": list(shape), "input_seed": 640001 + i, "output": t(y), "grad_output_seed": 640101 + i,
                    "input_grad": t(x.grad)})
    return {"cases": out, "kernel4": t(bilinear_kernel(2, 2, 4)), "kernel5": t(bilinear_kernel(1, 1, 5))}


def write(name, data):
    OUT.mkdir(parents=True, exist_ok=True)
    data = {"torch": torch.__version__, "torchvision": torchvision.__version__, **data}
    raw = json.dumps(data, separators=(",", ":")).encode()
    path = OUT / f"{name}.json.gz"
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as z:
            z.write(raw)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main():
    sections = {"unet": unet, "resnet": resnet, "fcn": fcn, "upsample": upsample}
    for name in sys.argv[1:] or list(sections):
        write(name, sections[name]())


if __name__ == "__main__":
    main()
