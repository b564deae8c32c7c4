"""A sweep end to end: validate every run, train and evaluate what is missing, then write the report."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from execrl.sweep.analysis import SweepResults, analyse
from execrl.sweep.config import PlannedRun, SweepConfig, load_sweep, plan_runs
from execrl.sweep.gather import RunResult, is_finished, read_run
from execrl.sweep.plots import plot_final_metrics, plot_learning_curves
from execrl.sweep.report import write_report
from execrl.sweep.runner import read_base_model_finals, run_sweep


@dataclass(frozen=True)
class SweepOutput:
    report: Path
    results_json: Path
    results: SweepResults


def collect(sweep: SweepConfig, runs: list[PlannedRun]) -> tuple[list[RunResult], list[str]]:
    """The finished runs' results, and the names of the runs not finished."""
    finished = [run for run in runs if is_finished(run)]
    missing = [f"{run.arm} seed {run.seed}" for run in runs if run not in finished]
    return [read_run(run, sweep.evaluate) for run in finished], missing


def report(sweep: SweepConfig, runs: list[PlannedRun], command: str) -> SweepOutput:
    results_list, missing = collect(sweep, runs)
    results = analyse(sweep, results_list, missing, read_base_model_finals(sweep, runs), command)
    out_dir = Path(sweep.output_dir)
    plots = {
        "Learning curves": plot_learning_curves(results_list, list(sweep.arms), out_dir / "plots" / "learning_curves.png"),
        "Final metrics": plot_final_metrics(results.tables, list(sweep.arms), out_dir / "plots" / "final_metrics.png"),
    }
    markdown, data = write_report(results, plots, out_dir)
    return SweepOutput(markdown, data, results)


def sweep(
    path: str | os.PathLike[str], report_only: bool = False, console: Console | None = None, progress: bool = True
) -> SweepOutput:
    """Run the sweep file at ``path`` (``report_only``: only rewrite the report from the runs on disk)."""
    config = load_sweep(path)
    runs = plan_runs(config)  # every merged config validated before anything trains
    if not report_only:
        run_sweep(config, runs, console or Console(stderr=True), progress)
    return report(config, runs, f"execrl sweep --config {Path(path).as_posix()}")
