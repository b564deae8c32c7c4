"""Where a step's metrics go: a JSONL file, TensorBoard, and a live rich progress bar."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Record = dict[str, float]

STEP_KEY = "reward/mean"  # present in the record of every training step (not in evaluation-only records)


def step_window_mean(history: Sequence[Record], key: str, last: bool = True) -> float | None:
    """The mean of ``key`` over the last (or first) 20% of the training steps, at least one: how a run's
    final (or initial) reward is read, in its summary and in sweep reports. None when no step logged it."""
    values = [r[key] for r in history if key in r and STEP_KEY in r]
    if not values:
        return None
    window = max(1, len(values) // 5)
    chosen = values[-window:] if last else values[:window]
    return math.fsum(chosen) / len(chosen)

# What the progress bar shows, in order: (metric key, label, format).
_SHOWN = (
    ("reward/mean", "reward", "{:+.3f}"),
    ("kl", "kl", "{:.4f}"),
    ("entropy", "ent", "{:.3f}"),
    ("clip_fraction", "clip", "{:.2f}"),
    ("throughput/rollout_tokens_per_s", "tok/s", "{:.0f}"),
)


def format_stats(record: Record) -> str:
    parts = [label + " " + fmt.format(record[key]) for key, label, fmt in _SHOWN if key in record]
    parts += [
        f"{key.removeprefix('judge/')} {value:+.2f}" for key, value in record.items() if key.startswith("judge/")
    ]
    if "eval/pass_rate" in record:
        parts.append(f"pass {record['eval/pass_rate']:.0%}")
    return "  ".join(parts)


class MetricsLog:
    """Appends records to ``metrics.jsonl`` and TensorBoard under ``run_dir``.

    On resume, ``history`` (from the checkpoint) replaces the JSONL file, so steps that ran after the
    checkpoint and were lost with a crash do not appear twice. Not ``enabled`` (ranks other than
    rank 0 of a data-parallel run), it writes nothing.
    """

    def __init__(
        self,
        run_dir: Path,
        tensorboard: bool,
        history: Sequence[Record] = (),
        start_step: int = 0,
        enabled: bool = True,
    ):
        self.path = run_dir / "metrics.jsonl"
        self.enabled = enabled
        self.writer = None
        if not enabled:
            return
        with self.path.open("w", encoding="utf-8") as handle:
            for record in history:
                handle.write(json.dumps(record) + "\n")
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=start_step + 1 if start_step else None)

    def write(self, record: Record) -> None:
        if not self.enabled:
            return
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.writer is not None:
            step = int(record["step"])
            for key, value in record.items():
                if key != "step" and math.isfinite(value):
                    self.writer.add_scalar(key, value, step)
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class StepProgress:
    """A rich progress bar over training steps with the latest step's key metrics."""

    def __init__(self, total: int, completed: int, enabled: bool, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[stats]}"),
            console=console,
            disable=not enabled,
        )
        self.task = self.progress.add_task("train", total=total, completed=completed, stats="")

    def __enter__(self) -> StepProgress:  # noqa: PYI034 - py3.10 has no typing.Self
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self, record: Record) -> None:
        self.progress.update(self.task, advance=1, stats=format_stats(record))
