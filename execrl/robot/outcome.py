"""What one run on one world state amounts to: did it run, did it act, did it complete the task.

The categories are Robo-Instruct's (shared/specs/roboeval.md, section 8): a crash whose text names the
robot is a ``RobotExecutionError``, any other crash or an unexpected timeout a ``PythonError``; a run
that ended as it should but whose trace misses a check is a ``CompletionError``; otherwise ``Success``.
The judges, the held-out evaluation and RoboEval's evaluator all classify runs here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from execrl.robot.checks import Trace
from execrl.robot.requirements import Requirement, unmet
from execrl.robot.runner import RobotRun

ROBOT_EXECUTION_ERROR = "RobotExecutionError"
PYTHON_ERROR = "PythonError"
COMPLETION_ERROR = "CompletionError"
SUCCESS = "Success"
CATEGORIES = (ROBOT_EXECUTION_ERROR, PYTHON_ERROR, COMPLETION_ERROR, SUCCESS)
CRASHES = (ROBOT_EXECUTION_ERROR, PYTHON_ERROR)
UNEXPECTED_TIMEOUT = "TimeoutError: program should not time out"


@dataclass(frozen=True)
class StateOutcome:
    """``ran``: no crash and no unexpected timeout; ``completed``: ran and the checks accept the trace;
    ``unmet``: the generated-task requirements the trace misses (empty for a RoboEval check)."""

    category: str
    ran: bool
    acted: bool
    completed: bool
    error: str | None = None
    error_line: int | None = None
    unmet: tuple[Requirement, ...] = ()


def crash_category(error: str | None) -> str:
    # Robo-Instruct's rule: an error whose text names the robot is the robot's, any other is Python's.
    return ROBOT_EXECUTION_ERROR if "Robot" in (error or "") else PYTHON_ERROR


def _ended(run: RobotRun, timeout_expected: bool) -> StateOutcome | None:
    """The outcome of a run that did not end as it should, else None."""
    if run.status == "exception":
        return StateOutcome(
            crash_category(run.error), False, bool(run.trace), False, run.error, run.error_line
        )
    if run.status == "timeout" and not timeout_expected:
        return StateOutcome(PYTHON_ERROR, False, bool(run.trace), False, UNEXPECTED_TIMEOUT)
    return None


def judge_requirements(run: RobotRun, timeout_expected: bool, checks: Sequence[Requirement]) -> StateOutcome:
    """A run on a generated task's state: completed when it ran and meets every requirement (a state
    without requirements cannot be completed)."""
    failed = _ended(run, timeout_expected)
    if failed is not None:
        return failed
    missing = tuple(unmet(checks, run.trace))
    completed = bool(checks) and not missing
    return StateOutcome(
        SUCCESS if completed else COMPLETION_ERROR, True, bool(run.trace), completed, unmet=missing
    )


def judge_check(run: RobotRun, timeout_expected: bool, check: Callable[[Trace], bool]) -> StateOutcome:
    """A run on a RoboEval state, whose check is a predicate; a check that raises fails the state, as
    upstream, and is classified by the same "Robot" rule."""
    failed = _ended(run, timeout_expected)
    if failed is not None:
        return failed
    try:
        passed = bool(check(run.trace))
    except Exception as exc:  # noqa: BLE001 - a check that raises fails the state, as upstream
        error = f"check raised {type(exc).__name__}: {exc}"
        return StateOutcome(crash_category(error), True, bool(run.trace), False, error)
    return StateOutcome(SUCCESS if passed else COMPLETION_ERROR, True, bool(run.trace), passed)


def program_category(outcomes: Sequence[StateOutcome]) -> str:
    """Per program, as Robo-Instruct: the first crash or unexpected timeout across the states in order,
    else ``CompletionError`` if a state failed, else ``Success``."""
    crash = next((outcome.category for outcome in outcomes if outcome.category in CRASHES), None)
    if crash is not None:
        return crash
    return SUCCESS if all(outcome.completed for outcome in outcomes) else COMPLETION_ERROR
