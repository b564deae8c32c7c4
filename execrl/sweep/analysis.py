"""From the runs' results to the sweep's findings: per-metric tables over seeds, paired comparisons with the
baseline arm, and the samples each arm needs to reach the baseline's final reward."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from execrl.sweep.config import SweepConfig
from execrl.sweep.gather import PASS_RATE, REWARD, RunResult
from execrl.sweep.stats import (
    Description,
    PairedTest,
    describe,
    median_samples,
    paired_test,
    samples_to_reach,
)


@dataclass(frozen=True)
class ArmStats:
    arm: str
    seeds: list[int]
    values: list[float]  # one per seed, in the order of ``seeds``
    description: Description
    versus_baseline: PairedTest | None  # None for the baseline itself, or with fewer than two shared seeds
    shared_seeds: int  # seeds this arm and the baseline both have (the pairs of the test)


@dataclass(frozen=True)
class MetricTable:
    metric: str
    title: str
    arms: list[ArmStats]
    base_model: dict[str, float]  # untrained model -> value (benchmark metrics only)


@dataclass(frozen=True)
class Reach:
    arm: str
    per_seed: dict[int, int | None]  # seed -> samples at which the smoothed reward reached the target
    median: float | None  # None: not reached by the median seed
    reached: int  # seeds that reached it


@dataclass(frozen=True)
class SamplesToReach:
    target: float  # the baseline arm's final reward, mean over its seeds
    smoothing: int  # steps in the trailing moving average of the reward curve
    arms: list[Reach]


@dataclass(frozen=True)
class SweepResults:
    name: str
    command: str
    base: str
    baseline: str
    seeds: list[int]
    arms: dict[str, dict[str, Any]]  # arm -> its overrides
    evaluate: list[dict[str, Any]]
    tables: list[MetricTable]
    reach: SamplesToReach | None  # None until the baseline has a finished run
    runs: list[RunResult]
    missing: list[str]  # "<arm> seed <k>" of runs not finished (yet)


ROBOT_TITLES = {  # execrl.robot.heldout.RobotHeldOut.metrics()
    "eval/robot_pass_rate": "pass rate (runs without error on every state)",
    "eval/robot_execution_failure_share": "execution-failure share (PythonError + RobotExecutionError)",
    "eval/robot_completion_rate": "completion rate (every state's completion checks met)",
    "eval/robot_state_completion_rate": "state completion rate",
}


def metric_title(metric: str) -> str:
    if metric == "reward":
        return "Final reward (mean of the last 20% of steps)"
    if metric == PASS_RATE:
        return "Held-out tests-passed rate (greedy decoding, at the end of training)"
    if metric in ROBOT_TITLES:
        return f"Held-out robot {ROBOT_TITLES[metric]} (greedy, generated tasks, at the end of training)"
    if metric.startswith("judge/"):
        return f"Judge {metric.removeprefix('judge/')}: raw score (mean of the last 20% of steps)"
    return metric  # a benchmark's "<label>: <metric>"


def _arm_stats(metric: str, arm: str, runs: list[RunResult], baseline: dict[int, float] | None) -> ArmStats | None:
    by_seed = {r.seed: r.finals[metric] for r in runs if r.arm == arm and metric in r.finals}
    if not by_seed:
        return None
    seeds = sorted(by_seed)
    shared = [s for s in seeds if baseline is not None and s in baseline]
    versus = None
    if baseline is not None and len(shared) >= 2:
        versus = paired_test([by_seed[s] for s in shared], [baseline[s] for s in shared])
    return ArmStats(arm, seeds, [by_seed[s] for s in seeds], describe([by_seed[s] for s in seeds]), versus, len(shared))


def metric_tables(
    sweep: SweepConfig, runs: list[RunResult], base_models: dict[str, dict[str, float]]
) -> list[MetricTable]:
    metrics = list(dict.fromkeys(m for r in runs for m in r.finals))
    metrics += [m for finals in base_models.values() for m in finals if m not in metrics]
    tables = []
    for metric in metrics:
        baseline = {r.seed: r.finals[metric] for r in runs if r.arm == sweep.baseline and metric in r.finals}
        rows = []
        for arm in sweep.arms:
            row = _arm_stats(metric, arm, runs, None if arm == sweep.baseline else baseline)
            if row is not None:
                rows.append(row)
        untrained = {model: finals[metric] for model, finals in base_models.items() if metric in finals}
        tables.append(MetricTable(metric, metric_title(metric), rows, untrained))
    return tables


def reach_baseline(sweep: SweepConfig, runs: list[RunResult]) -> SamplesToReach | None:
    """Samples each arm's smoothed reward curve needs to reach the baseline's mean final reward, per seed."""
    finals = [r.finals["reward"] for r in runs if r.arm == sweep.baseline and "reward" in r.finals]
    if not finals:
        return None
    target = float(np.mean(finals))
    arms = []
    for arm in sweep.arms:
        per_seed: dict[int, int | None] = {}
        for run in sorted((r for r in runs if r.arm == arm and REWARD in r.curves), key=lambda r: r.seed):
            steps, rewards = zip(*run.curves[REWARD])
            per_seed[run.seed] = samples_to_reach(list(steps), list(rewards), run.batch_size, target, sweep.smoothing)
        if per_seed:
            reached = sum(v is not None for v in per_seed.values())
            arms.append(Reach(arm, per_seed, median_samples(list(per_seed.values())), reached))
    return SamplesToReach(target, sweep.smoothing, arms)


def analyse(
    sweep: SweepConfig,
    runs: list[RunResult],
    missing: list[str],
    base_models: dict[str, dict[str, float]],
    command: str,
) -> SweepResults:
    return SweepResults(
        name=sweep.name,
        command=command,
        base=sweep.base,
        baseline=sweep.baseline,
        seeds=list(sweep.seeds),
        arms=dict(sweep.arms),
        evaluate=[spec.model_dump(mode="json") for spec in sweep.evaluate],
        tables=metric_tables(sweep, runs, base_models),
        reach=reach_baseline(sweep, runs),
        runs=runs,
        missing=missing,
    )
