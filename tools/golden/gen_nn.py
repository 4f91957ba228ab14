#!/usr/bin/env python3
"""Golden values for ConvKit.Nn: default initialisations under torch.manual_seed, SmallSECnn (from
shared/peer/peer_models.py) built from seed 0 and run forward in train and eval mode, BatchNorm2d's
running statistics with momentum=None. Writes tests/ConvKit.Tests/Fixtures/nn/nn.json.

Run with Debian's PyTorch: /usr/bin/python3 tools/golden/gen_nn.py
"""
import json
import sys
from pathlib import Path

import torch
import torch.nn as nn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT.parent / "shared" / "peer"))
from gen_golden import prng  # noqa: E402  (the shared splitmix64 input generator)
from peer_models import SmallSECnn  # noqa: E402

torch.set_num_threads(1)


def t(x):
    x = x.detach().float().contiguous()
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def summary(x):
    x = x.detach().double().reshape(-1)
    return {"shape": list(x.shape), "first": [float(v) for v in x[:8].tolist()],
            "sum": float(x.sum()), "abssum": float(x.abs().sum())}


def seeded(shape, seed):
    return torch.tensor(prng(int(torch.Size(shape).numel()), seed), dtype=torch.float32).reshape(shape)


def init_cases():
    specs = [
        ("Conv2d", dict(in_channels=3, out_channels=8, kernel_size=3)),
        ("Conv2d", dict(in_channels=4, out_channels=6, kernel_size=(3, 2), groups=2)),
        ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=5, bias=False)),
        ("ConvTranspose2d", dict(in_channels=4, out_channels=2, kernel_size=3)),
        ("ConvTranspose2d", dict(in_channels=4, out_channels=6, kernel_size=(2, 4), groups=2)),
        ("Linear", dict(in_features=10, out_features=5)),
        ("Linear", dict(in_features=1, out_features=3)),
    ]
    out = []
    for i, (kind, kw) in enumerate(specs):
        torch.manual_seed(i)
        m = getattr(nn, kind)(**kw)
        out.append({"module": kind, "kwargs": kw, "seed": i, "state": {k: t(v) for k, v in m.state_dict().items()}})
    for i, (fn, kw) in enumerate([("kaiming_normal_", {}), ("xavier_uniform_", {}), ("kaiming_uniform_", {"a": 0.1}),
                                  ("xavier_normal_", {"gain": 2.0}), ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"})]):
        torch.manual_seed(100 + i)
        w = torch.empty(6, 4, 3, 3)
        getattr(nn.init, fn)(w, **kw)
        out.append({"init": fn, "kwargs": kw, "seed": 100 + i, "shape": [6, 4, 3, 3], "value": t(w)})
    return out


def smallsecnn():
    torch.manual_seed(0)
    m = SmallSECnn()
    names = [n for n, _ in m.named_parameters()]
    buffers = [n for n, _ in m.named_buffers()]
    state = {k: summary(v) for k, v in m.state_dict().items()}
    x = seeded((4, 1, 28, 28), 770001)
    m.train()
    y_train = m(x)
    running = {k: t(v) for k, v in m.state_dict().items() if "running" in k or "num_batches" in k}
    m.eval()
    y_eval = m(x)
    g = seeded(tuple(y_train.shape), 770002)
    m.train()
    torch.manual_seed(0)
    m2 = SmallSECnn()
    y = m2(x)
    (y * g).sum().backward()
    grads = {n: summary(p.grad) for n, p in m2.named_parameters()}
    return {"parameter_names": names, "buffer_names": buffers, "state": state, "input_seed": 770001, "input_shape": [4, 1, 28, 28],
            "train_output": t(y_train), "running_after_train": running, "eval_output": t(y_eval),
            "grad_output_seed": 770002, "grads": grads}


def bn_cumulative():
    bn = nn.BatchNorm2d(3, momentum=None)
    outs = []
    for step in range(3):
        x = seeded((2, 3, 4, 5), 880000 + step) * (step + 1) + step
        outs.append(t(bn(x)))
    return {"seeds": [880000, 880001, 880002], "outputs": outs, "state": {k: t(v) for k, v in bn.state_dict().items()}}


class SmallConvNet(nn.Module):
    """The three-step optimizer check's network: conv-BN-ReLU-maxpool, conv, global pool, linear."""
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                               nn.Conv2d(4, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))

    def forward(self, x):
        return self.f(x)


def optimizer_steps():
    """Three steps of a small conv net from torch.manual_seed(3) weights on seeded batches, per optimizer."""
    configs = [("sgd", dict(lr=0.1, momentum=0.9, weight_decay=1e-3)), ("sgd_nesterov", dict(lr=0.05, momentum=0.9, nesterov=True)),
               ("adam", dict(lr=0.01, weight_decay=1e-3)), ("adamw", dict(lr=0.01, weight_decay=0.05))]
    out = []
    for name, kw in configs:
        torch.manual_seed(3)
        m = SmallConvNet()
        cls = {"sgd": torch.optim.SGD, "sgd_nesterov": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
        opt = cls(m.parameters(), **kw)
        losses = []
        for step in range(3):
            x = seeded((8, 1, 10, 10), 990000 + 10 * step)
            y = torch.tensor([int(v) for v in (torch.tensor(prng(8, 990001 + 10 * step, 0, 3)).floor().tolist())], dtype=torch.long)
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
            losses.append(float(loss))
        out.append({"optimizer": name, "kwargs": kw, "losses": losses, "state": {k: t(v) for k, v in m.state_dict().items()}})
    return out


def main():
    data = {"torch": torch.__version__, "init": init_cases(), "smallsecnn": smallsecnn(), "bn_cumulative": bn_cumulative(),
            "optimizer_steps": optimizer_steps()}
    path = ROOT / "tests" / "ConvKit.Tests" / "Fixtures" / "nn" / "nn.json"
    path.write_text(json.dumps(data, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
