#!/usr/bin/env bash
# Installs PyTorch into the given Python's environment without ever pulling a multi-GB CUDA build
# onto a CPU machine. A torch that is already importable is kept (GPU users bring their own).
set -euo pipefail
PY=${1:?usage: install_torch.sh PYTHON}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
if "$PY" -c "import torch" 2>/dev/null; then
  echo "torch $("$PY" -c 'import torch; print(torch.__version__)') already installed: keeping it"
  exit 0
fi
if command -v nvidia-smi >/dev/null 2>&1; then
  "$PY" -m pip install -q "torch==$TORCH_VERSION"
  exit 0
fi
# CPU machine. A local CPU wheel (pip's find-links) if there is one: torch alone from there, then its
# dependencies from the package index (torch itself is then already satisfied).
if "$PY" -m pip install -q --no-index --no-deps "torch==$TORCH_VERSION" 2>/dev/null; then
  "$PY" -m pip install -q "torch==$TORCH_VERSION"
else
  "$PY" -m pip install -q "torch==$TORCH_VERSION" \
    --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple
fi
"$PY" -c "import torch; assert not torch.version.cuda" 2>/dev/null ||
  echo "warning: a CUDA build of torch is installed" >&2
