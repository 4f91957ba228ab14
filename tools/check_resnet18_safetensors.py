#!/usr/bin/env python3
"""Writes full-size PyTorch models and their outputs as safetensors for tools/check_resnet18_safetensors.sh.

Into DIR (argument 1):
- resnet18.safetensors: torchvision resnet18() state_dict after torch.manual_seed(0), BatchNorm running statistics
  set to seeded values (so eval mode exercises them; fresh ones are 0 and 1).
- fcn_resnet18.safetensors: fcn_resnet18() of shared/peer/peer_models.py after torch.manual_seed(0), same treatment.
- io.safetensors: the input x [2, 3, 224, 224] (torch.randn after torch.manual_seed(1)) and the outputs
  resnet18.eval [2, 1000], resnet18.train [2, 1000] (train mode, batch statistics) and fcn_resnet18.eval [2, 21, 224, 224].

Too big to commit (45 MB each); run with Debian's PyTorch: /usr/bin/python3 tools/check_resnet18_safetensors.py DIR
"""
import sys
from pathlib import Path

import torch
import torchvision

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "golden"))
sys.path.insert(0, str(HERE.parent.parent / "shared" / "peer"))
from peer_models import fcn_resnet18  # noqa: E402
from safetensors_io import save_file  # noqa: E402


def perturb_batchnorm(m, gen):
    with torch.no_grad():
        for name, b in m.named_buffers():
            if "running_mean" in name:
                b.copy_(torch.rand(b.shape, generator=gen) - 0.5)
            elif "running_var" in name:
                b.copy_(torch.rand(b.shape, generator=gen) * 1.5 + 0.5)


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(2)
    torch.manual_seed(0)
    resnet = torchvision.models.resnet18()
    perturb_batchnorm(resnet, gen)
    torch.manual_seed(0)
    fcn = fcn_resnet18()
    perturb_batchnorm(fcn, gen)
    save_file(resnet.state_dict(), out / "resnet18.safetensors")
    save_file(fcn.state_dict(), out / "fcn_resnet18.safetensors")
    torch.manual_seed(1)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        io = {"x": x, "resnet18.eval": resnet.eval()(x), "fcn_resnet18.eval": fcn.eval()(x), "resnet18.train": resnet.train()(x)}
    save_file(io, out / "io.safetensors")
    print("wrote", *sorted(p.name for p in out.iterdir()), "to", out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
