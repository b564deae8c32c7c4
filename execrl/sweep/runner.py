"""Running a sweep: each (arm, seed) trained in turn in this process, skipped when done, resumed when cut short.

A run counts as done when its ``summary.json`` says it reached ``algorithm.steps``; a run with a
checkpoint continues from it. A run directory trained with another config (an edited sweep file) is an
error rather than silently mixed into the results.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from execrl.errors import ExecrlError
from execrl.rl.checkpoints import latest_checkpoint
from execrl.rl.config import TrainConfig, parse_config, read_config_file
from execrl.sweep.config import BASE_MODEL_DIR, PlannedRun, SweepConfig
from execrl.sweep.evaluation import evaluate_model
from execrl.sweep.gather import Session, add_session, benchmark_finals, is_finished

# Keys a run may change between sessions without becoming another experiment.
_MAY_DIFFER = ("algorithm.steps", "logging.")


def _flatten(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def config_differences(trained: TrainConfig, planned: TrainConfig) -> list[str]:
    """The dotted keys whose values differ, except those a run may change (steps, logging)."""
    old = dict(_flatten(trained.model_dump(mode="json")))
    new = dict(_flatten(planned.model_dump(mode="json")))
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return [k for k in keys if not k.startswith(_MAY_DIFFER)]


def _check_same_config(run: PlannedRun) -> None:
    path = run.run_dir / "config.yaml"
    if not path.is_file():
        return
    differences = config_differences(parse_config(read_config_file(path), str(path)), run.config)
    if differences:
        raise ExecrlError(
            f"{run.run_dir} was trained with another config (differs in: {', '.join(differences)}); "
            "restore the sweep file, or delete that directory to train the run again"
        )


def device_name(config: TrainConfig) -> str:
    import torch

    from execrl.rl.build import resolve_runtime

    device = resolve_runtime(config).device
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else device.type


def train_run(run: PlannedRun, console: Console) -> None:
    """Train (or continue) one run and record the session's wall time and device."""
    from execrl.rl.trainer import train

    resume = latest_checkpoint(run.run_dir) is not None
    started = time.perf_counter()
    train(run.config, resume=resume, console=console)
    add_session(run.run_dir, Session(device=device_name(run.config), wall_s=time.perf_counter() - started))


def base_model_dir(sweep: SweepConfig, model: str, models: list[str]) -> Path:
    """Where the untrained ``model`` is evaluated: one directory, or one per model when arms differ."""
    root = Path(sweep.output_dir) / BASE_MODEL_DIR
    return root if len(models) == 1 else root / str(models.index(model))


def base_models(runs: list[PlannedRun]) -> list[str]:
    return list(dict.fromkeys(run.config.model.name for run in runs))


def run_sweep(sweep: SweepConfig, runs: list[PlannedRun], console: Console, progress: bool = True) -> None:
    """Train every unfinished run, then evaluate every run (and the base model) that lacks an evaluation."""
    if sweep.evaluate:
        from execrl.data_dir import resolve_data_dir

        resolve_data_dir(sweep.data_dir)  # fail now, not after the training
    for run in runs:
        _check_same_config(run)
    models = base_models(runs)
    bar = Progress(
        TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=console, disable=not progress,
    )
    untrained = models if sweep.include_base_model and sweep.evaluate else []
    with bar:
        task = bar.add_task("", total=len(runs) + len(untrained))
        for run in runs:
            if is_finished(run):
                bar.update(task, description=f"{run.arm} seed {run.seed}: done before")
            else:
                bar.update(task, description=f"{run.arm} seed {run.seed}: training")
                # evaluations of an earlier adapter (a run extended to more steps) would be stale
                shutil.rmtree(run.run_dir / "eval", ignore_errors=True)
                train_run(run, console)
            trained = run.trained_model()  # None only without evaluations: plan_runs checks it
            for spec in sweep.evaluate if trained is not None else ():
                bar.update(task, description=f"{run.arm} seed {run.seed}: {spec.label}")
                evaluate_model(*trained, spec, run.run_dir / "eval", sweep.data_dir)
            bar.advance(task)
        for model in untrained:
            bar.update(task, description=f"base model {model}")
            for spec in sweep.evaluate:
                evaluate_model(model, None, spec, base_model_dir(sweep, model, models), sweep.data_dir)
            bar.advance(task)


def read_base_model_finals(sweep: SweepConfig, runs: list[PlannedRun]) -> dict[str, dict[str, float]]:
    """model -> benchmark metric -> value, for the untrained models evaluated so far."""
    if not sweep.include_base_model:
        return {}
    models = base_models(runs)
    return {model: benchmark_finals(base_model_dir(sweep, model, models), sweep.evaluate) for model in models}
