"""Held-out robot metrics: programs for generated robot tasks, run against all of their world states.

What the robot evaluation of ``execrl train`` and ``execrl sweep`` reports on held-out generated tasks
(never RoboEval's, which may not be trained on):

* ``pass_rate``: the program runs on every state without a robot or Python error (or times out only
  where waiting is right) and acts; the simulator judge's full score, training's executability.
* ``execution_failure_share``: the program crashes or times out unexpectedly on some state, RoboEval's
  PythonError + RobotExecutionError share (the figure the paper's -51% is about).
* ``completion_rate``: the program meets every state's completion checks, RoboEval's Success on our tasks.
* ``state_completion_rate``: the share of (program, state) pairs completed, the completion judge's score.

Tasks are anything with ``states`` whose items have ``state``, ``timeout_expected`` and ``checks``
(``execrl.tasks.robot_gen.RobotTask``), so this module needs nothing above ``execrl.robot``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from execrl.robot.batch import RunSpec, run_all
from execrl.robot.outcome import CRASHES, StateOutcome, judge_requirements, program_category
from execrl.robot.requirements import Requirement
from execrl.robot.rewrite import INJECTED, Semantics, lowercase_double_quoted
from execrl.robot.runner import SIMULATION_TIMEOUT_S
from execrl.sandbox import Sandbox


class HeldOutState(Protocol):
    state: dict[str, Any]
    timeout_expected: bool
    checks: tuple[Requirement, ...]


class HeldOutTask(Protocol):
    @property
    def states(self) -> Sequence[HeldOutState]: ...


@dataclass(frozen=True)
class RobotHeldOut:
    """Held-out robot metrics over ``tasks`` programs (one per task); every share lies in [0, 1]."""

    tasks: int
    pass_rate: float
    execution_failure_share: float
    completion_rate: float
    state_completion_rate: float
    passed: int  # programs counted in pass_rate

    def metrics(self, prefix: str = "eval/robot_") -> dict[str, float]:
        """The shares as metrics-log entries (``eval/robot_completion_rate``, ...)."""
        names = ("pass_rate", "execution_failure_share", "completion_rate", "state_completion_rate")
        return {f"{prefix}{name}": float(getattr(self, name)) for name in names}


def _passed(outcomes: Sequence[StateOutcome]) -> bool:
    # A task without world states passes nothing, as the simulator judge scores it 0.
    return bool(outcomes) and all(outcome.ran and outcome.acted for outcome in outcomes)


def _completed(outcomes: Sequence[StateOutcome]) -> bool:
    return bool(outcomes) and all(outcome.completed for outcome in outcomes)


def evaluate_programs(
    programs: Sequence[str],
    tasks: Sequence[HeldOutTask],
    *,
    timeout_s: float = SIMULATION_TIMEOUT_S,
    semantics: Semantics = INJECTED,
    lowercase: bool = True,
    sandbox: Sandbox | None = None,
) -> RobotHeldOut:
    """Run ``programs[i]`` (a ``def task_program():`` program) on every state of ``tasks[i]``.

    The defaults are the judges': the API injected, double-quoted strings lowercased as RoboEval does.
    """
    if len(programs) != len(tasks) or not tasks:
        raise ValueError(
            f"need one program per task and at least one task, got {len(programs)} and {len(tasks)}"
        )
    texts = [lowercase_double_quoted(p) if lowercase and semantics == INJECTED else p for p in programs]
    specs = [
        RunSpec(text, w.state, timeout_s, semantics) for text, task in zip(texts, tasks) for w in task.states
    ]
    runs = iter(run_all(specs, sandbox))
    per_program = [
        [judge_requirements(next(runs), w.timeout_expected, w.checks) for w in task.states] for task in tasks
    ]
    passed = sum(_passed(outcomes) for outcomes in per_program)
    failed = sum(program_category(outcomes) in CRASHES for outcomes in per_program)
    completed = sum(_completed(outcomes) for outcomes in per_program)
    states = [o.completed for outcomes in per_program for o in outcomes]
    return RobotHeldOut(
        tasks=len(tasks),
        pass_rate=passed / len(tasks),
        execution_failure_share=failed / len(tasks),
        completion_rate=completed / len(tasks),
        state_completion_rate=statistics.fmean(states) if states else 0.0,
        passed=passed,
    )
