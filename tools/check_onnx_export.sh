#!/bin/sh
# Runs ConvKit's ONNX export tests with CONVKIT_ONNX_EXPORT_DIR set, so every exported model is kept, then checks
# each with onnx.checker.check_model(full_check=True) (Debian's python3-onnx: apt-get install python3-onnx).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$(mktemp -d /tmp/convkit-onnx-export.XXXXXX)}
CONVKIT_ONNX_EXPORT_DIR="$DIR" dotnet test "$ROOT/tests/ConvKit.Onnx.Tests" --filter "FullyQualifiedName~OnnxExportTests"
/usr/bin/python3 "$ROOT/tools/check_onnx_export.py" "$DIR"
