"""Peak resident memory of PyTorch over five SeedUNet training steps (b2, 128x128, SGD momentum), the bench's
"seed-unet train step" workload. Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/bench/peer_unet_memory.py
Compare with: /usr/bin/time -f '%M KB' dotnet bench/ConvKit.Bench/bin/Release/net10.0/ConvKit.Bench.dll --no-peer --only 'seed-unet train'"""
import os, resource, sys, time
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'peer'))
from peer_models import SeedUNet
torch.manual_seed(0); torch.set_num_threads(2)
m = SeedUNet(); x = torch.randn(2, 3, 128, 128); y = torch.randint(0, 2, (2, 128, 128))
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
ts = []
for _ in range(5):
    t = time.perf_counter(); opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step(); ts.append(time.perf_counter() - t)
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, steps {[round(v * 1e3) for v in ts]} ms")
