#!/usr/bin/env python3
"""Golden values for ConvKit.Vision.Metrics.ConfusionMatrix: torchvision's references/segmentation/utils.py
ConfusionMatrix (update, compute, the mean IoU of __str__), reproduced below verbatim in its arithmetic, over
seeded random targets (with ignore pixels) and predictions or logits. Inputs are stored in the fixture, so the
test needs neither Python nor a shared PRNG. Writes tests/ConvKit.Vision.Tests/Fixtures/metrics/metrics.json.

Run with Debian's PyTorch: /usr/bin/python3 tools/golden/gen_metrics.py
"""
import json
import math
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "tests" / "ConvKit.Vision.Tests" / "Fixtures" / "metrics" / "metrics.json"


class ConfusionMatrix:
    """torchvision references/segmentation/utils.py (a = target, b = prediction; rows are targets)."""

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.mat = None

    def update(self, a, b):
        n = self.num_classes
        if self.mat is None:
            self.mat = torch.zeros((n, n), dtype=torch.int64, device=a.device)
        with torch.inference_mode():
            k = (a >= 0) & (a < n)
            inds = n * a[k].to(torch.int64) + b[k]
            self.mat += torch.bincount(inds, minlength=n**2).reshape(n, n)

    def compute(self):
        h = self.mat.float()
        acc_global = torch.diag(h).sum() / h.sum()
        acc = torch.diag(h) / h.sum(1)
        iu = torch.diag(h) / (h.sum(1) + h.sum(0) - torch.diag(h))
        return acc_global, acc, iu


def num(v):
    v = float(v)
    return None if math.isnan(v) else v


def case(name, n, target, prediction=None, logits=None):
    cm = ConfusionMatrix(n)
    pred = prediction if prediction is not None else logits.argmax(1)
    # train.py's evaluate(): confmat.update(target.flatten(), output.argmax(1).flatten())
    cm.update(target.flatten(), pred.flatten())
    acc_global, acc, iu = cm.compute()
    out = {"name": name, "num_classes": n,
           "target": {"shape": list(target.shape), "data": target.flatten().tolist()},
           "matrix": cm.mat.flatten().tolist(),
           "pixel_accuracy": num(acc_global), "class_accuracy": [num(v) for v in acc],
           "iou": [num(v) for v in iu],
           "torchvision_mean_iou": num(iu.mean()),
           "nanmean_iou": num(torch.nanmean(iu))}
    if logits is not None:
        out["logits"] = {"shape": list(logits.shape), "data": [float(v) for v in logits.flatten().tolist()]}
    else:
        out["prediction"] = {"shape": list(prediction.shape), "data": prediction.flatten().tolist()}
    return out


def with_ignore(t, g, fraction=0.1):
    t = t.clone()
    t[torch.rand(t.shape, generator=g) < fraction] = 255
    return t


def main():
    g = torch.Generator().manual_seed(0)
    cases = []
    # Mostly-right predictions over 5 classes, with ignore pixels.
    t = torch.randint(0, 5, (2, 7, 9), generator=g)
    p = torch.where(torch.rand(t.shape, generator=g) < 0.7, t, torch.randint(0, 5, t.shape, generator=g))
    cases.append(case("labels_5_classes", 5, with_ignore(t, g), prediction=p))
    # Logits [N, C, H, W] over 4 classes.
    t = torch.randint(0, 4, (3, 5, 6), generator=g)
    cases.append(case("logits_4_classes", 4, with_ignore(t, g), logits=torch.randn(3, 4, 5, 6, generator=g)))
    # Class 3 of 4 never appears in target or prediction: torchvision's mean IoU is nan.
    t = torch.randint(0, 3, (2, 6, 6), generator=g)
    p = torch.where(torch.rand(t.shape, generator=g) < 0.6, t, torch.randint(0, 3, t.shape, generator=g))
    cases.append(case("absent_class", 4, with_ignore(t, g), prediction=p))
    # Classification: logits [N, C], targets [N].
    cases.append(case("classification", 3, torch.randint(0, 3, (20,), generator=g), logits=torch.randn(20, 3, generator=g)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
