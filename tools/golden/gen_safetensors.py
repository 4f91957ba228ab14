#!/usr/bin/env python3
"""safetensors fixtures written by PyTorch: tests/ConvKit.Tests/Fixtures/safetensors/.

- dtypes.safetensors: one small tensor per dtype (F32, F16, BF16, F64, I64, I32, U8) plus a 0-dim and an empty
  tensor; dtypes.json holds each tensor's values as float32 after conversion, which ConvKit must reproduce.
- dtypes_extra.safetensors / .json: I8, I16 and BOOL tensors the same way.
- smallsecnn.safetensors: a SmallSECnn (shared/peer/peer_models.py) state_dict after torch.manual_seed(7) with
  perturbed BatchNorm statistics (num_batches_tracked stays int64, as PyTorch keeps it); smallsecnn.json holds
  the eval-mode output on a seeded input, which ConvKit must reproduce after loading the file by name.

Run with Debian's PyTorch: /usr/bin/python3 tools/golden/gen_safetensors.py
"""
import json
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT.parent / "shared" / "peer"))
from gen_golden import prng  # noqa: E402
from peer_models import SmallSECnn  # noqa: E402
from safetensors_io import save_file  # noqa: E402

OUT = ROOT / "tests" / "ConvKit.Tests" / "Fixtures" / "safetensors"
torch.set_num_threads(1)


def seeded(shape, seed, lo=-1.0, hi=1.0):
    return torch.tensor(prng(int(torch.Size(shape).numel()), seed, lo, hi)).reshape(shape)


def values(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.float().reshape(-1).tolist()]}


def dtypes():
    base = seeded((3, 5), 4401, -300.0, 300.0)
    ts = {
        "f32": base,
        "f16": base.half(),
        "bf16": base.bfloat16(),
        "f64": base.double() * 1.0000001,
        "i64": base.round().long() * 1000003,
        "i32": base.round().int(),
        "u8": (base.abs().round() % 256).to(torch.uint8),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
    }
    save_file(ts, OUT / "dtypes.safetensors", {"written_by": "tools/golden/gen_safetensors.py"})
    (OUT / "dtypes.json").write_text(json.dumps({k: values(v) for k, v in ts.items()}))


def dtypes_extra():
    """The further integer types Debian's PyTorch 1.13 has (I8, I16, BOOL), in their own file so dtypes.safetensors,
    the fuzz test's seed, stays as it was. Unsigned 16/32/64-bit and float8 need a newer PyTorch: hand-made in C#."""
    base = seeded((2, 7), 4402, -300.0, 300.0)
    ts = {"i8": (base / 3).round().to(torch.int8), "i16": (base * 100).round().to(torch.int16), "bool": base > 0}
    save_file(ts, OUT / "dtypes_extra.safetensors")
    (OUT / "dtypes_extra.json").write_text(json.dumps({k: values(v) for k, v in ts.items()}))


def perturb_batchnorm(m, seed):
    """Seeded running statistics and counters, so eval mode differs from a fresh model's."""
    with torch.no_grad():
        for i, (name, b) in enumerate(m.named_buffers()):
            if "running_mean" in name:
                b.copy_(seeded(tuple(b.shape), seed + i, -0.5, 0.5))
            elif "running_var" in name:
                b.copy_(seeded(tuple(b.shape), seed + i, 0.5, 2.0))
            elif "num_batches" in name:
                b.fill_(1234 + i)


def smallsecnn():
    torch.manual_seed(7)
    m = SmallSECnn()
    perturb_batchnorm(m, 5100)
    m.eval()
    x = seeded((2, 1, 28, 28), 5201)
    y = m(x)
    save_file(m.state_dict(), OUT / "smallsecnn.safetensors")
    (OUT / "smallsecnn.json").write_text(json.dumps({"input_seed": 5201, "input_shape": [2, 1, 28, 28], "output": values(y),
                                                     "num_batches_tracked": {k: int(v) for k, v in m.state_dict().items() if "num_batches" in k}}))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    dtypes()
    dtypes_extra()
    smallsecnn()
    print("wrote", *sorted(p.name for p in OUT.iterdir()))
