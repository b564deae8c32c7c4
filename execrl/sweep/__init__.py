"""Experiment sweeps: arms x seeds of training runs, resumable, gathered into tables, tests, plots, a report."""

from execrl.sweep.config import EvalSpec, PlannedRun, SweepConfig, load_sweep, plan_runs
from execrl.sweep.pipeline import SweepOutput, sweep

__all__ = ["EvalSpec", "PlannedRun", "SweepConfig", "SweepOutput", "load_sweep", "plan_runs", "sweep"]
