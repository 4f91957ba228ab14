"""PyTorch's three passes of the training-mode 3x3 convolutions ConvKit.Bench --phases times (forward, data gradient,
weight gradient), each on its own. Usage: /usr/bin/python3 tools/bench/peer_phases.py [threads]"""
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
SHAPES = [(64, 1, 28, 32), (64, 32, 14, 64), (64, 64, 7, 128), (8, 64, 56, 64), (16, 128, 28, 128)]

def med(f, budget=1.0):
    f(); f()
    ts, start = [], time.perf_counter()
    while len(ts) < 5 or (time.perf_counter() - start < budget and len(ts) < 200):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort(); return ts[len(ts) // 2] * 1e3

for (n, c, h, k) in SHAPES:
    x = torch.randn(n, c, h, h); w = torch.randn(k, c, 3, 3); dy = torch.randn(n, k, h, h)
    def bwd(mask):
        return lambda: torch.ops.aten.convolution_backward(dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)
    with torch.no_grad():
        fwd = med(lambda: torch.ops.aten.convolution(x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1))
        adj = med(bwd([True, False, False]))
        wg = med(bwd([False, True, False]))
    print(f"n{n} c{c} {h}x{h} k{k}".ljust(22) + f" forward {fwd:8.3f} ms  data grad {adj:8.3f} ms  weight grad {wg:8.3f} ms")
