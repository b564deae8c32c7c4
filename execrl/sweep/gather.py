"""Reading a finished run back: its final metrics, learning curves and compute, from the files it wrote."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execrl.errors import ExecrlError
from execrl.rl.metrics import STEP_KEY, step_window_mean
from execrl.sweep.config import EvalSpec, PlannedRun
from execrl.sweep.evaluation import read_eval_metrics

REWARD = STEP_KEY
PASS_RATE = "eval/pass_rate"
SESSIONS_FILE = "sweep_sessions.json"  # what the sweep measured while training the run (device, wall time)

Record = dict[str, float]


@dataclass(frozen=True)
class Compute:
    steps: int
    samples: int  # responses generated for training: steps x batch size
    train_s: float  # the trainer's own timings (time/*: rollout, reward, update), summed over steps
    wall_s: float | None  # wall-clock of the sweep's training calls; None when the sweep did not train it
    device: str | None


@dataclass(frozen=True)
class RunResult:
    arm: str
    seed: int
    run_dir: str
    batch_size: int
    finals: dict[str, float]  # metric -> final value (see final_metrics)
    curves: dict[str, list[tuple[int, float]]]  # metric -> (step, value) over training
    compute: Compute


@dataclass(frozen=True)
class Session:
    device: str
    wall_s: float


def read_records(run_dir: Path) -> list[Record]:
    path = run_dir / "metrics.jsonl"
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise ExecrlError(f"cannot read {path}: {exc}; rerun the sweep to retrain that run") from exc


def is_finished(run: PlannedRun) -> bool:
    """summary.json is written last, once the run has trained and exported; it counts the steps run."""
    try:
        summary = json.loads((run.run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return int(summary.get("steps", 0)) >= run.config.algorithm.steps


def final_metrics(records: list[Record]) -> dict[str, float]:
    finals: dict[str, float] = {}
    reward = step_window_mean(records, REWARD)
    if reward is not None:
        finals["reward"] = reward
    for metric in _eval_keys(records):  # eval/pass_rate, and eval/robot_* for robot tasks
        evals = [r[metric] for r in records if metric in r and math.isfinite(r[metric])]
        if evals:
            finals[metric] = evals[-1]
    for judge in sorted({k for r in records for k in r if k.startswith("judge/")}):
        value = step_window_mean(records, judge)
        if value is not None:
            finals[judge] = value
    return finals


def _eval_keys(records: list[Record]) -> list[str]:
    return [PASS_RATE, *sorted({k for r in records for k in r if k.startswith("eval/") and k != PASS_RATE})]


def curves(records: list[Record]) -> dict[str, list[tuple[int, float]]]:
    keys = [REWARD, *_eval_keys(records), *sorted({k for r in records for k in r if k.startswith("judge/")})]
    found = {k: [(int(r["step"]), r[k]) for r in records if k in r and math.isfinite(r[k])] for k in keys}
    return {k: points for k, points in found.items() if points}


def benchmark_metric(spec: EvalSpec, name: str) -> str:
    return f"{spec.label}: {name}"


def benchmark_finals(eval_dir: Path, specs: list[EvalSpec]) -> dict[str, float]:
    """The float metrics (pass@k, shares) of each cached evaluation; counts are left out."""
    finals: dict[str, float] = {}
    for spec in specs:
        metrics = read_eval_metrics(eval_dir, spec)
        for name, value in (metrics or {}).items():
            if isinstance(value, float):
                finals[benchmark_metric(spec, name)] = value
    return finals


def read_sessions(run_dir: Path) -> list[Session]:
    path = run_dir / SESSIONS_FILE
    if not path.is_file():
        return []
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [Session(**item) for item in data]


def add_session(run_dir: Path, session: Session) -> None:
    sessions = [*read_sessions(run_dir), session]
    (run_dir / SESSIONS_FILE).write_text(json.dumps([dataclasses.asdict(s) for s in sessions], indent=1))


def read_run(run: PlannedRun, specs: list[EvalSpec]) -> RunResult:
    records = read_records(run.run_dir)
    steps = sum(1 for r in records if REWARD in r)
    batch = run.config.algorithm.batch_size
    sessions = read_sessions(run.run_dir)
    compute = Compute(
        steps=steps,
        samples=steps * batch,
        train_s=float(sum(v for r in records for k, v in r.items() if k.startswith("time/"))),
        wall_s=sum(s.wall_s for s in sessions) if sessions else None,
        device=", ".join(sorted({s.device for s in sessions})) if sessions else None,
    )
    finals = {**final_metrics(records), **benchmark_finals(run.run_dir / "eval", specs)}
    return RunResult(run.arm, run.seed, str(run.run_dir), batch, finals, curves(records), compute)
