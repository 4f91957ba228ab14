"""Times numpy's float32 matrix product (OpenBLAS through Debian's libblas.so.3 alternative when
libopenblas0-pthread is installed) on square sizes. Prints one line per size: name, median ms.
Usage: /usr/bin/python3 tools/bench/peer_sgemm.py [threads]  (set OPENBLAS_NUM_THREADS to the same number)
Its med / rows.append shape is shared/peer/peer_bench.py's, so tools/bench/peer_lockstep.py can run it too."""
import time
import numpy as np


def med(f, n=7, warm=2):
    for _ in range(warm): f()
    ts = []
    for _ in range(n):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort(); return ts[len(ts) // 2] * 1e3


rng = np.random.default_rng(0)
rows = []
for n in (512, 1024, 2048):
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    rows.append((f"sgemm n{n}", med(lambda: a @ b, n=7 if n < 2048 else 5)))
for name, ms in rows:
    print(f"{name:45s} {ms:9.2f} ms")
