#!/bin/sh
# Exports the big models (torchvision resnet18, fcn_resnet18, SeedUNet(3, 2, widths=(8..128))) with
# torch.onnx.export into a temporary folder (never committed: resnet18 is ~45 MB) and runs ConvKit's import
# test on them: outputs must match PyTorch within float32 tolerance.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$(mktemp -d /tmp/convkit-onnx-big.XXXXXX)}
/usr/bin/python3 "$ROOT/tools/golden/gen_onnx.py" --big "$DIR"
CONVKIT_ONNX_BIG="$DIR" dotnet test "$ROOT/tests/ConvKit.Onnx.Tests" --filter "FullyQualifiedName~Big_models_match_pytorch_when_generated" --logger "console;verbosity=normal"
echo "big ONNX models in $DIR match PyTorch"
