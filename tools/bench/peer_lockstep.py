"""Runs a peer timing script in lockstep with ConvKit.Bench, so that on a shared machine whose speed drifts over
minutes both sides of each ratio are timed within seconds of each other.

Usage: /usr/bin/python3 tools/bench/peer_lockstep.py SCRIPT [args...]

SCRIPT is a peer script in the shape of shared/peer/peer_bench.py: it defines med(f, ...) and records each workload as
rows.append((NAME, med(...))). The script is run unchanged except that each such med(...) call becomes
lockstep(NAME, med, ...): it prints "ready NAME" and waits for one line on stdin. On "go" it times the workload as the
script would and prints "NAME  12.34 ms" at once; on "skip" it does not time it (its row then reads nan and is not
parsed). ConvKit.Bench times its own workload of that name between the two, while this process waits."""
import ast
import sys


def lockstep(name, med, *args, **kwargs):
    print("ready", name, flush=True)
    answer = sys.stdin.readline().strip()
    if answer == "skip":
        return float("nan")
    if answer != "go":
        raise SystemExit(f"peer_lockstep: expected 'go' or 'skip' on stdin, got {answer!r}")
    ms = med(*args, **kwargs)
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
    sys.path.insert(0, path.rsplit("/", 1)[0] if "/" in path else ".")
    exec(compile(tree, path, "exec"), {"__name__": "__main__", "__file__": path, "__lockstep": lockstep})


if __name__ == "__main__":
    main()
