#!/bin/sh
# Full-size check of issue 6: a PyTorch ResNet18 (torchvision) and FCN-ResNet18 (shared/peer) state_dict saved as
# safetensors loads by name into ConvKit's ResNet.ResNet18 / FcnResNet18 and reproduces PyTorch's outputs on the
# same input within float32 tolerance. The files are ~45 MB each, so they are written to a temp folder, not committed.
# Prints the max absolute and relative differences (tests/ConvKit.Vision.Tests/PyTorchResNet18Check.cs).
# Usage: tools/check_resnet18_safetensors.sh [DIR]   (needs Debian's python3-torch and python3-torchvision)
set -eu
cd "$(dirname "$0")/.."
DIR="${1:-$(mktemp -d)}"
/usr/bin/python3 tools/check_resnet18_safetensors.py "$DIR"
rm -f "$DIR/report.txt"
CONVKIT_RESNET18_DIR="$DIR" dotnet test tests/ConvKit.Vision.Tests -nologo -v q --filter "FullyQualifiedName~PyTorchResNet18Check"
cat "$DIR/report.txt"
