#!/usr/bin/env python3
"""Checks ONNX files exported by ConvKit with Debian's python3-onnx: onnx.checker.check_model(full_check=True)
(structure plus strict shape inference), and that the inferred output shape equals the declared one.

Usage: /usr/bin/python3 tools/check_onnx_export.py DIR_OR_FILE...   (tools/check_onnx_export.sh runs it on every
model the export tests write)."""
import sys
from pathlib import Path

import onnx


def check(path):
    m = onnx.load(str(path))
    onnx.checker.check_model(m, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    declared = [[d.dim_value for d in o.type.tensor_type.shape.dim] for o in m.graph.output]
    ops = sorted({n.op_type for n in inferred.graph.node})
    print(f"ok  {path.name}: opset {m.opset_import[0].version}, {len(m.graph.node)} nodes, output {declared}, ops {ops}")


def main():
    files = []
    for arg in sys.argv[1:]:
        p = Path(arg)
        files += sorted(p.glob("*.onnx")) if p.is_dir() else [p]
    if not files:
        sys.exit("no .onnx files given")
    failed = 0
    for f in files:
        try:
            check(f)
        except Exception as e:  # report every file, then fail
            failed += 1
            print(f"FAIL {f.name}: {e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
