#!/usr/bin/env bash
# PPO in verl 0.9 with execrl's dense, per-token rewards, on a Ray cluster of GPU nodes (and, for the
# reward farm, as many CPU-only nodes as you like). See docs/integrations/verl.md.
#
# Every node needs the same environment (execrl, verl 0.9.1 with vLLM, bubblewrap for the sandbox), and
# this checkout and DATA at the same paths, e.g. on a shared file system: verl's trainer and its
# agent-loop workers, wherever Ray places them, read the data and the configs below on their own node.
#   head:        ray start --head --port=6379
#   GPU nodes:   ray start --address=<head>:6379
#   CPU nodes:   ray start --address=<head>:6379 --num-cpus=<cores for the reward farm> --num-gpus=0
#   then, on the head:  RAY_ADDRESS=auto NNODES=<GPU nodes> examples/verl/launch_dense.sh [hydra overrides]
# Without RAY_ADDRESS verl starts a one-machine Ray instance itself.
#
# Settings (environment): MODEL, SOURCE (builtin | mbpp; mbpp reads $EXECRL_DATA_DIR), TRAIN_SIZE,
# EVAL_SIZE, DATA (where the parquet files and the agent-loop config go), REWARD_CONFIG (an execrl
# reward YAML; empty: the default formula), SANDBOX (ray | local), NNODES, GPUS_PER_NODE, PYTHON.
# DRY_RUN=1 makes the data and the agent-loop config and prints the training command instead of running it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PYTHON=${PYTHON:-python}
MODEL=${MODEL:-Qwen/Qwen2.5-Coder-1.5B-Instruct}
SOURCE=${SOURCE:-builtin}
TRAIN_SIZE=${TRAIN_SIZE:-1024}
EVAL_SIZE=${EVAL_SIZE:-64}
DATA=$(mkdir -p "${DATA:-$ROOT/data/verl-$SOURCE}" && cd "${DATA:-$ROOT/data/verl-$SOURCE}" && pwd)
REWARD_CONFIG=${REWARD_CONFIG:-}
SANDBOX=${SANDBOX:-ray}
NNODES=${NNODES:-1}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}

# 1. execrl's tasks as verl parquet rows; each row's reward_model.ground_truth is the task's check.
if [ ! -f "$DATA/train.parquet" ]; then
  "$PYTHON" -c "import sys; from execrl.rl.config import TasksConfig; from execrl.integrations.verl_data import write_verl_splits
print(*write_verl_splits(TasksConfig(source=sys.argv[1], train_size=int(sys.argv[2]), eval_size=int(sys.argv[3])), sys.argv[4]))" \
    "$SOURCE" "$TRAIN_SIZE" "$EVAL_SIZE" "$DATA"
fi

# 2. The agent-loop config with absolute paths, as every agent-loop worker reads it on its own node.
"$PYTHON" -c "import sys; from omegaconf import OmegaConf
[entry] = OmegaConf.load(sys.argv[1]); entry.sandbox = sys.argv[3]
entry.reward_config = __import__('os').path.abspath(sys.argv[4]) if sys.argv[4] else None
OmegaConf.save(OmegaConf.create([entry]), sys.argv[2])" \
  "$ROOT/examples/verl/execrl_agent_loop.yaml" "$DATA/execrl_agent_loop.yaml" "$SANDBOX" "$REWARD_CONFIG"

# 3. Train: verl's own entry point with the example config.
command=("$PYTHON" -m verl.trainer.main_ppo --config-path="$ROOT/examples/verl" --config-name=ppo_execrl_dense
  data.train_files="$DATA/train.parquet" data.val_files="$DATA/test.parquet"
  actor_rollout_ref.model.path="$MODEL" critic.model.path="$MODEL"
  actor_rollout_ref.rollout.agent.agent_loop_config_path="$DATA/execrl_agent_loop.yaml"
  trainer.nnodes="$NNODES" trainer.n_gpus_per_node="$GPUS_PER_NODE" "$@")
if [ "${DRY_RUN:-0}" = 1 ]; then
  printf '%q ' "${command[@]}"
  echo
else
  exec "${command[@]}"
fi
