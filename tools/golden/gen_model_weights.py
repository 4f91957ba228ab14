#!/usr/bin/env python3
"""PyTorch state_dicts of ConvKit's model layouts, saved as safetensors: tests/ConvKit.Vision.Tests/Fixtures/safetensors/.

- seedunet.safetensors: SeedUNet(3, 2, widths=(8, 8, 16, 16, 32)) of shared/peer/peer_models.py after
  torch.manual_seed(11), with perturbed BatchNorm statistics (ConvKit: new UNet(3, 2, [8, 8, 16, 16, 32])).
- seedunet_f16.safetensors / seedunet_bf16.safetensors: the same state_dict after model.half() / model.bfloat16()
  (num_batches_tracked stays int64, as PyTorch keeps it).
- seedunet.json: on a seeded [1, 3, 32, 32] input, the eval-mode output of the float32 model ("eval"), the
  train-mode output and the running_mean of bn1.0 after that step ("train", "bn1.0.running_mean"), and the eval
  outputs of the float32 model holding the F16 and BF16 weights widened back to float32 ("eval_f16", "eval_bf16"):
  ConvKit widens them exactly, so those match to float32 rounding, and "eval" to half precision.

Run with Debian's PyTorch: /usr/bin/python3 tools/golden/gen_model_weights.py
"""
import json
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT.parent / "shared" / "peer"))
from gen_safetensors import perturb_batchnorm, seeded, values  # noqa: E402
from peer_models import SeedUNet  # noqa: E402
from safetensors_io import save_file  # noqa: E402

OUT = ROOT / "tests" / "ConvKit.Vision.Tests" / "Fixtures" / "safetensors"
WIDTHS = (8, 8, 16, 16, 32)
INPUT_SEED, INPUT_SHAPE = 6101, (1, 3, 32, 32)
torch.set_num_threads(1)


def eval_output(state):
    m = SeedUNet(3, 2, WIDTHS)
    m.load_state_dict({k: v if v.dtype == torch.int64 else v.float() for k, v in state.items()})
    m.eval()
    with torch.no_grad():
        return m(seeded(INPUT_SHAPE, INPUT_SEED))


def seedunet():
    torch.manual_seed(11)
    m = SeedUNet(3, 2, WIDTHS)
    perturb_batchnorm(m, 6000)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    save_file(state, OUT / "seedunet.safetensors", {"written_by": "tools/golden/gen_model_weights.py", "widths": str(list(WIDTHS))})
    half = {k: v if v.dtype == torch.int64 else v.half() for k, v in state.items()}
    bf16 = {k: v if v.dtype == torch.int64 else v.bfloat16() for k, v in state.items()}
    save_file(half, OUT / "seedunet_f16.safetensors")
    save_file(bf16, OUT / "seedunet_bf16.safetensors")
    fx = {"widths": list(WIDTHS), "input_seed": INPUT_SEED, "input_shape": list(INPUT_SHAPE),
          "eval": values(eval_output(state)), "eval_f16": values(eval_output(half)), "eval_bf16": values(eval_output(bf16))}
    m.train()
    with torch.no_grad():
        fx["train"] = values(m(seeded(INPUT_SHAPE, INPUT_SEED)))
    fx["bn1.0.running_mean"] = values(m.bn1[0].running_mean)
    (OUT / "seedunet.json").write_text(json.dumps(fx))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    seedunet()
    print("wrote", *sorted(p.name for p in OUT.iterdir()))
