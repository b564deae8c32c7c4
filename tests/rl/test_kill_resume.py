"""``kill -9`` in the middle of a run loses at most the steps since the last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml


@pytest.mark.slow
def test_sigkill_then_resume_continues_from_the_last_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    config = {
        "seed": 1,
        "output_dir": str(run_dir),
        "model": {"name": str(tiny_model_dir), "lora": {"rank": 4, "alpha": 8}},
        "tasks": {"train_size": 8},
        "generation": {"max_new_tokens": 8, "max_prompt_tokens": 48},
        "reward": {"judges": {"syntax": {"weight": 1.0}}},
        "algorithm": {"steps": 200, "prompts_per_step": 2, "samples_per_prompt": 2, "minibatch_size": 2,
                      "micro_batch_size": 2, "epochs": 1},
        "checkpoint": {"every": 2, "keep_last": 2},
        "eval": {"enabled": False},
        "logging": {"tensorboard": False, "plots": False, "progress": False},
        "export": {"adapter": False},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "execrl", "train"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen([*command, "--config", str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = run_dir / "checkpoints" / "step-000002"
    deadline = time.monotonic() + 120
    try:
        while not first.is_dir() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.is_dir(), "the first checkpoint never appeared"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    steps = sorted(int(p.name.removeprefix("step-")) for p in (run_dir / "checkpoints").glob("step-*"))
    last = steps[-1]
    resumed = subprocess.run(
        [*command, "--resume", str(run_dir), "--set", f"algorithm.steps={last + 2}"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"(step {last})" in resumed.stdout + resumed.stderr
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [float(s) for s in range(1, last + 3)]
    assert (run_dir / "checkpoints" / f"step-{last + 2:06d}" / "state.json").is_file()
