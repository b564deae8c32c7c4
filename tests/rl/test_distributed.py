"""Data-parallel training: ``accelerate launch`` starts 2 CPU ranks (gloo) that must stay in sync.

Each step's record carries ``dist/param_spread``, the spread of the ranks' trainable-weight checksums:
0 while the ranks average their gradients, above 0 once they stop (the negative control).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

LAUNCHER = [sys.executable, "-m", "accelerate.commands.launch"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(model_dir: Path, run_dir: Path, steps: int, path: Path) -> Path:
    config: dict[str, Any] = {
        "seed": 3,
        "device": "cpu",
        "output_dir": str(run_dir),
        "model": {"name": str(model_dir), "lora": {"rank": 4, "alpha": 8}},
        "tasks": {"train_size": 8, "eval_size": 2},
        "generation": {"max_new_tokens": 8, "max_prompt_tokens": 48},
        "reward": {"judges": {"syntax": {"weight": 1.0}}},
        # gae: the value loss alone gives each rank its own gradient, whatever the rewards
        "algorithm": {"estimator": "gae", "steps": steps, "prompts_per_step": 2, "samples_per_prompt": 2,
                      "minibatch_size": 2, "micro_batch_size": 1, "epochs": 1, "learning_rate": 1e-2},
        "checkpoint": {"every": 1},
        "eval": {"enabled": False},
        "logging": {"tensorboard": False, "plots": False, "progress": False},
        "export": {"adapter": True},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def launch(program: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    # --multi_gpu is accelerate's multi-process launcher (torchrun underneath); on a machine without GPUs
    # each rank joins a gloo group on the CPU. (`--cpu` would start one process: it needs MPI for more.)
    command = [*LAUNCHER, "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no", "--main_process_port", str(free_port()), *program, "train", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def records(run_dir: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_two_ranks_stay_in_sync_and_resume(tiny_model_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = launch(["-m", "execrl"], "--config", str(write_config(tiny_model_dir, run, 2, tmp_path / "c.yaml")))
    assert done.stdout.count("run: ") == 1  # rank 0 alone reports
    first = records(run)
    assert [r["step"] for r in first] == [1.0, 2.0]
    assert all(r["dist/param_spread"] == 0.0 and r["grad_norm"] > 0 for r in first)
    state = json.loads((run / "checkpoints" / "step-000002" / "state.json").read_text())
    assert state["data_position"] == 2 * 2 * 2  # steps x prompts_per_step x ranks: each rank its own prompts
    assert (run / "final" / "adapter" / "adapter_model.safetensors").is_file()

    launch(["-m", "execrl"], "--resume", str(run), "--set", "algorithm.steps=3")
    resumed = records(run)
    assert resumed[:2] == first and [r["step"] for r in resumed] == [1.0, 2.0, 3.0]
    assert resumed[2]["dist/param_spread"] == 0.0


@pytest.mark.slow
def test_without_gradient_averaging_the_ranks_drift_apart(tiny_model_dir: Path, tmp_path: Path) -> None:
    script = str(Path(__file__).with_name("train_without_averaging.py"))
    run = tmp_path / "run"
    launch([script], "--config", str(write_config(tiny_model_dir, run, 1, tmp_path / "c.yaml")))
    assert records(run)[0]["dist/param_spread"] > 0
