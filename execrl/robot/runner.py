"""Running a robot program against one world state in the sandbox, and reading back what happened.

Under the injected semantics the candidate's code is the job's code, so its errors are located on its
own lines; the simulator travels as the job's prelude and its entry function is called with the state
and the time budget. Under the upstream semantics the job's code is empty and the simulator's upstream
entry function runs the rewritten program text itself, as the benchmark's evaluator runs a script
(``execrl.robot.rewrite``); the rewrite keeps line numbers, so errors are still located.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from execrl.robot.checks import Trace, trace_from_data
from execrl.robot.rewrite import (
    INJECTED,
    UPSTREAM,
    Semantics,
    check_semantics,
    lowercase_double_quoted,
    upstream_rewrite,
)
from execrl.sandbox import CallTests, Job, JobResult, Limits, Status

__all__ = ["RobotRun", "decode_run", "lowercase_double_quoted", "robot_job"]

SIMULATION_TIMEOUT_S = 1.0  # the benchmark's --simulation-timeout
ENTRY_FUNCTION = "_execrl_run_robot"
UPSTREAM_ENTRY_FUNCTION = "_execrl_run_robot_upstream"
SIMULATOR_SOURCE = resources.files("execrl.robot").joinpath("simulator.py").read_text(encoding="utf-8")

# How long past the simulated budget the sandbox waits before killing a program that escapes the
# simulated clock (one that swallows the timeout with a bare ``except:`` or blocks outside Python).
_BACKSTOP_S = 5.0


@dataclass(frozen=True)
class RobotRun:
    """One run of a program against one state: how it ended, its trace, and its error if it crashed.

    ``status`` is "success", "timeout" (the simulated budget ran out, or the sandbox stopped it) or
    "exception" (the program crashed, at load or while running).
    """

    status: str
    trace: Trace
    error_type: str | None = None
    error_message: str | None = None
    error_line: int | None = None

    @classmethod
    def from_report(cls, report: Any) -> RobotRun:
        """From the plain data the simulator's entry function returns.

        That data comes from the process that ran the candidate, which can rebind the entry function
        and return anything: it is checked field by field, and ``ValueError`` says what is wrong.
        """
        if not isinstance(report, dict) or not _REPORT_KEYS <= set(report) <= _REPORT_KEYS | {"step_lines"}:
            raise ValueError(f"not a report with the keys {sorted(_REPORT_KEYS)}")
        if report["status"] not in _RUN_STATUSES:
            raise ValueError(f"unknown status {str(report['status'])[:50]!r}")
        for key in ("error_type", "error_message"):
            if report[key] is not None and not isinstance(report[key], str):
                raise ValueError(f"{key} is not a string")
        line = report["error_line"]
        if line is not None and (type(line) is not int or line < 1):
            raise ValueError("error_line is not a positive line number")
        steps = report["trace"]
        if not isinstance(steps, (list, tuple)) or not all(_is_step(step) for step in steps):
            raise ValueError("the trace is not a sequence of (action, text, options) steps")
        lines = report.get("step_lines")
        if not isinstance(lines, list) or len(lines) != len(steps):
            lines = None  # where each step came from is a help for locating findings, never required
        else:
            lines = [n if type(n) is int and n > 0 else None for n in lines]
        return cls(
            report["status"], trace_from_data(steps, lines), report["error_type"], report["error_message"], line
        )

    @property
    def error(self) -> str | None:
        if self.error_type is None:
            return None
        return f"{self.error_type}: {self.error_message}" if self.error_message else self.error_type


def robot_job(
    program: str,
    state: dict[str, Any],
    timeout_s: float = SIMULATION_TIMEOUT_S,
    semantics: Semantics = INJECTED,
) -> Job:
    """A sandbox job that runs ``program`` once against ``state``.

    ``injected``: the program as given (callers lowercase it first when they want that part of the
    benchmark's rewrite) and then its ``task_program()``; ``upstream``: the benchmark's whole rewrite
    is applied here and the result runs as the benchmark's evaluator runs it.
    """
    limit = timeout_s + _BACKSTOP_S
    if check_semantics(semantics) == UPSTREAM:
        code, tests = (
            "",
            CallTests(
                function=UPSTREAM_ENTRY_FUNCTION,
                inputs=((state, timeout_s, upstream_rewrite(program)),),
                call_timeouts_s=(limit,),
            ),
        )
    else:
        code, tests = (
            program,
            CallTests(function=ENTRY_FUNCTION, inputs=((state, timeout_s),), call_timeouts_s=(limit,)),
        )
    return Job(code=code, prelude=SIMULATOR_SOURCE, tests=tests, limits=Limits(timeout_s=limit + _BACKSTOP_S))


def _is_step(step: Any) -> bool:
    return (
        isinstance(step, (list, tuple)) and len(step) == 3 and all(isinstance(part, str) for part in step[:2])
    )


_REPORT_KEYS = frozenset({"status", "trace", "error_type", "error_message", "error_line"})
_RUN_STATUSES = frozenset({"success", "timeout", "exception"})
_TIMEOUT_STATUSES = (Status.TIMEOUT, Status.OUTPUT_EXCEEDED)  # the benchmark sees a blocked pipe as a timeout


def decode_run(result: JobResult) -> RobotRun:
    """What the simulator reported, or, when the program never got that far, what the sandbox saw."""
    outcome = result.tests[0] if result.tests else None
    if outcome is not None and outcome.passed:
        try:
            return RobotRun.from_report(outcome.value)
        except ValueError as exc:  # the program replaced the simulator's entry function
            return RobotRun(
                "exception", Trace(), "InvalidReport", f"the simulator's report is malformed: {exc}"
            )
    if result.status in _TIMEOUT_STATUSES or (outcome is not None and outcome.error_type == "CallTimeout"):
        return RobotRun(status="timeout", trace=Trace())
    # A job-level error (syntax, load time) comes before the entry call's, which then never ran.
    if result.error_type is None and outcome is not None and outcome.error_type is not None:
        return RobotRun("exception", Trace(), outcome.error_type, outcome.error_message, outcome.error_line)
    return RobotRun(
        status="exception",
        trace=Trace(),
        error_type=result.error_type or result.status.value,
        error_message=result.error_message,
        error_line=result.error_line,
    )
