"""Runs a peer timing script in lockstep with ConvKit.Bench, so that on a shared machine whose speed drifts both sides
of each ratio are timed within a fraction of a second of each other.

Usage: /usr/bin/python3 tools/bench/peer_lockstep.py SCRIPT [args...]

SCRIPT is a peer script in the shape of shared/peer/peer_bench.py: it defines med(f, ..., warm=...) and records each
workload as rows.append((NAME, med(...))). The script runs unchanged except that each such med(...) call becomes
lockstep(NAME, med, ...), which speaks this protocol on stdin / stdout (one line each):

  peer: "ready NAME"        ConvKit.Bench: "skip" (the row reads nan and is not parsed) or "go" (after its own warm-up)
  peer: runs med's warm-up calls, then "warm"
  ConvKit.Bench: "block"    peer: times a block of calls (about BLOCK_S seconds, at least one call), "block MS" (its median)
  ... as many blocks as ConvKit.Bench asks for, each after one block of its own ...
  ConvKit.Bench: "end"      peer: "NAME  12.34 ms" (the median of its blocks)
"""
import ast
import inspect
import sys
import time

# Long enough that a block's first call (which may wake sleeping worker threads) is a small part of it, short enough
# that the two sides' blocks are close in time.
BLOCK_S = 0.1


def _read(expected):
    line = sys.stdin.readline().strip()
    if line not in expected:
        raise SystemExit(f"peer_lockstep: expected one of {expected} on stdin, got {line!r}")
    return line


def _median(v):
    v = sorted(v)
    return v[len(v) // 2]


def lockstep(name, med, *args, **kwargs):
    bound = inspect.signature(med).bind(*args, **kwargs)
    bound.apply_defaults()
    f = bound.arguments[next(iter(bound.signature.parameters))]
    warm = bound.arguments.get("warm", 1)
    print("ready", name, flush=True)
    if _read(("go", "skip")) == "skip":
        return float("nan")
    started = time.perf_counter()
    for _ in range(max(1, warm)):
        f()
    per_call = (time.perf_counter() - started) / max(1, warm)
    calls = max(1, int(BLOCK_S / max(per_call, 1e-6)))
    print("warm", flush=True)
    blocks = []
    while _read(("block", "end")) == "block":
        ts = []
        for _ in range(calls):
            t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
        blocks.append(_median(ts) * 1e3)
        print(f"block {blocks[-1]:.6f}", flush=True)
    ms = _median(blocks)
    print(f"{name:45s} {ms:9.2f} ms", flush=True)
    return ms


class _TimedRows(ast.NodeTransformer):
    """(NAME, med(args)) -> (NAME, lockstep(NAME, med, args)); NAME is a pure expression (a literal or an f-string)."""

    def __init__(self):
        self.count = 0

    def visit_Tuple(self, node):
        self.generic_visit(node)
        if len(node.elts) == 2:
            call = node.elts[1]
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "med":
                node.elts[1] = ast.Call(func=ast.Name("__lockstep", ast.Load()),
                                        args=[node.elts[0], call.func, *call.args], keywords=call.keywords)
                self.count += 1
        return node


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: peer_lockstep.py SCRIPT [args...]")
    path = sys.argv[1]
    sys.argv = sys.argv[1:]
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    rows = _TimedRows()
    tree = ast.fix_missing_locations(rows.visit(tree))
    if rows.count == 0:
        raise SystemExit(f"peer_lockstep: {path} has no rows.append((NAME, med(...))) to time in lockstep")
    exec(compile(tree, path, "exec"), {"__name__": "__main__", "__file__": path, "__lockstep": lockstep})


if __name__ == "__main__":
    main()
