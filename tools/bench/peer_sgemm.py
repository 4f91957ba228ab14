"""Times numpy's float32 matrix product (OpenBLAS through Debian's libblas.so.3 alternative when
libopenblas0-pthread is installed) on square sizes. Prints one line per size: name, median ms.
Usage: /usr/bin/python3 tools/bench/peer_sgemm.py [threads]  (set OPENBLAS_NUM_THREADS to the same number)"""
import sys, time
import numpy as np

rng = np.random.default_rng(0)
for n in (512, 1024, 2048):
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    for _ in range(2):
        a @ b
    ts = []
    for _ in range(7 if n < 2048 else 5):
        t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
    ts.sort()
    print(f"{'sgemm n' + str(n):45s} {ts[len(ts) // 2] * 1e3:9.2f} ms")
