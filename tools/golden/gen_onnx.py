#!/usr/bin/env python3
"""ONNX import fixtures for tests/ConvKit.Onnx.Tests: small models exported with torch.onnx.export (opset 13)
and PyTorch's output for a seeded input (the splitmix64 prng of gen_golden.py, lo -1, hi 1).

Run with Debian's PyTorch and python3-onnx:  /usr/bin/python3 tools/golden/gen_onnx.py [--big DIR]
Writes Fixtures/onnx/<name>.onnx and <name>.json ({"input_shape", "seed", "output_shape", "output"}).
With --big DIR it writes the large models (torchvision resnet18, fcn_resnet18, SeedUNet(8..128)) into DIR
instead; tools/check_onnx_import.sh runs the import tests on them (they are never committed).
"""
import json
import sys
from pathlib import Path

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = ROOT / "tests" / "ConvKit.Onnx.Tests" / "Fixtures" / "onnx"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT.parent / "shared" / "peer"))
from gen_golden import prng  # noqa: E402
from peer_models import SeedUNet, SmallSECnn, fcn_resnet18  # noqa: E402

torch.set_num_threads(1)


def seeded(shape, seed):
    return torch.tensor(prng(int(torch.Size(shape).numel()), seed), dtype=torch.float32).reshape(shape)


def randomize_bn(model, seed):
    """Non-trivial running statistics and affine parameters, so BatchNormalization is really tested."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model


class Classifier(nn.Module):
    """Conv/BN/ReLU/MaxPool/AvgPool/Linear with the elementwise and shape ops PyTorch emits around them."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.drop = nn.Dropout(0.3)
        self.fc1 = nn.Linear(16 * 3 * 3, 12)
        self.fc2 = nn.Linear(12, 5)

    def forward(self, x):
        x = (x - 0.25) / 0.5
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, 2)                      # 8x8
        x = self.bn2(x)                             # BN not after a conv: stays a BatchNormalization node
        x = F.leaky_relu(self.conv2(x), 0.1)        # 4x4
        x = F.relu6(x) * torch.sigmoid(x)          # Clip with min/max inputs, Mul
        x = F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)  # 3x3
        x = x.view(x.size(0), -1)                   # Shape/Gather/Unsqueeze/Concat/Reshape with a dynamic batch
        x = self.drop(F.relu(self.fc1(x)))
        return torch.softmax(self.fc2(x), dim=1)


class DepthwiseConcat(nn.Module):
    """A MobileNet-style depthwise-separable block, concatenation, padding modes, dilation and a crop."""
    def __init__(self, c=6):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 3, padding=1, groups=c)
        self.pw = nn.Conv2d(c, 2 * c, 1)
        self.bn = nn.BatchNorm2d(2 * c)
        self.dil = nn.Conv2d(3 * c, 4, 3, dilation=2, padding=2)
        self.grp = nn.Conv2d(4, 4, (3, 1), stride=(2, 1), groups=2)
        self.head = nn.Linear(5, 3)

    def forward(self, x):
        y = F.relu(self.bn(self.pw(F.relu(self.dw(x)))))
        y = torch.cat([x, y], dim=1)
        y = self.dil(F.pad(y, (1, 1, 1, 1), mode="reflect"))
        y = F.pad(y, (0, 1, 2, 0), mode="replicate")
        y = y[:, :, 1:-1, 2:]                       # Slice
        y = F.pad(y, (1, 0, 0, 1), value=0.5)
        y = self.grp(y)
        y = y - y.mean(dim=(2, 3), keepdim=True)    # ReduceMean, Sub
        return self.head(y[:, :, :, :5])            # MatMul + Add on a 4-D input


class TransposeUp(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(6, 4, (2, 3), stride=(1, 2), groups=2, dilation=(2, 1))

    def forward(self, x):
        return self.up2(torch.sigmoid(self.up(x)))


class Upsample(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        a = F.interpolate(self.conv(x), scale_factor=2, mode="nearest")
        b = F.interpolate(x, size=(10, 14), mode="bilinear", align_corners=False)
        c = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        d = F.interpolate(b, size=(12, 16), mode="nearest")
        e = F.interpolate(x, size=(12, 16), mode="bilinear", align_corners=True)
        return torch.cat([a, c, d, e], dim=1)


def export(model, shape, name, seed, out_dir, dynamic_batch=False):
    model.eval()
    x = seeded(shape, seed)
    with torch.no_grad():
        y = model(x)
    path = out_dir / f"{name}.onnx"
    dyn = {"input": {0: "N"}, "output": {0: "N"}} if dynamic_batch else None
    torch.onnx.export(model, x, str(path), opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes=dyn)
    m = onnx.load(str(path))
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})
    (out_dir / f"{name}.json").write_text(json.dumps({
        "input_shape": list(shape), "seed": seed, "output_shape": list(y.shape),
        "output": [float(v) for v in y.reshape(-1).tolist()]}))
    print(f"{name}: {path.stat().st_size} bytes, ops {ops}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--big":
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        import torchvision
        torch.manual_seed(7)
        export(randomize_bn(torchvision.models.resnet18(), 8), (1, 3, 64, 64), "resnet18", 920001, out)
        export(randomize_bn(fcn_resnet18(5), 9), (1, 3, 64, 64), "fcn_resnet18", 920002, out)
        export(randomize_bn(SeedUNet(3, 2, widths=(8, 16, 32, 64, 128)), 10), (1, 3, 32, 32), "seedunet", 920003, out)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(1234)
    export(randomize_bn(Classifier(), 1), (2, 3, 16, 16), "classifier", 910001, OUT, dynamic_batch=True)
    export(randomize_bn(SmallSECnn(10), 2), (1, 1, 28, 28), "smallsecnn", 910002, OUT)
    export(randomize_bn(SeedUNet(3, 2, widths=(8, 8, 16, 32, 64)), 3), (1, 3, 32, 32), "seedunet_small", 910003, OUT)
    export(randomize_bn(DepthwiseConcat(), 4), (1, 6, 9, 11), "dwconcat", 910004, OUT)
    export(TransposeUp(), (1, 4, 5, 6), "convtranspose", 910005, OUT)
    export(Upsample(), (1, 3, 6, 8), "upsample", 910006, OUT)


if __name__ == "__main__":
    main()
