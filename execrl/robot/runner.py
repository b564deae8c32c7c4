"""Running a robot program against one world state in the sandbox, and reading back what happened.

The job runs the program with the robot API's stubs as its prelude (``execrl/robot/stubs.py``); the
world, the simulated clock and the trace are a :class:`~execrl.robot.simulator.RobotService` that
stays in this process as the job's host-call service. Under injected semantics the job's code is the
program itself, so its errors are located on its own lines, and the stubs' entry function calls its
``task_program()``; under upstream semantics the job's code is empty and the upstream entry function
runs the rewritten program text itself, as the benchmark's evaluator runs a script
(``execrl.robot.rewrite``; the rewrite keeps line numbers, so errors are still located).

The verdict (:func:`decode_run`) is the service's state plus what the sandbox saw: the trace, a
timeout and the clock come from the service and the kernel; only how the program ended (its own
exception, if any) comes from its process, which is untrusted but cannot gain from lying there: a
program can always catch or raise its own exceptions.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

from execrl.robot.checks import Trace
from execrl.robot.rewrite import (
    INJECTED,
    UPSTREAM,
    Semantics,
    check_semantics,
    lowercase_double_quoted,
    upstream_rewrite,
)
from execrl.robot.simulator import MAX_CALLS, RobotService
from execrl.sandbox import CallTests, Job, JobResult, Limits, Status, TestOutcome
from execrl.sandbox.worker import HostCallError, decode_hook, encode_value

__all__ = ["RobotRun", "decode_run", "lowercase_double_quoted", "robot_job", "run_in_process"]

SIMULATION_TIMEOUT_S = 1.0  # the benchmark's --simulation-timeout
ENTRY_FUNCTION = "_execrl_run_robot"
UPSTREAM_ENTRY_FUNCTION = "_execrl_run_robot_upstream"
STUBS_SOURCE = resources.files("execrl.robot").joinpath("stubs.py").read_text(encoding="utf-8")

# How long past the simulated budget the sandbox waits before killing a program that escapes the
# simulated clock (one that swallows the timeout with a bare ``except:`` or blocks outside Python).
_BACKSTOP_S = 5.0
# The largest request the stubs send is a batch of at most 16 KiB of text, or one call with a text
# under the 64 KiB trace bound; a larger one is refused, which the stubs take as the bound reached.
_HOST_CALL_BYTES = 128 * 1024
_MAX_TEXT = 2000
_MAX_LINE = 10_000_000


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
    """A sandbox job that runs ``program`` once against ``state``, its world in ``job.service``.

    ``injected``: the program as given (callers lowercase it first when they want that part of the
    benchmark's rewrite) and then its ``task_program()``; ``upstream``: the benchmark's whole rewrite
    is applied here and the result runs as the benchmark's evaluator runs it. ``ValueError`` for a
    state the simulator cannot build.
    """
    service = RobotService(state, timeout_s, check_semantics(semantics))
    limit = timeout_s + _BACKSTOP_S
    if semantics == UPSTREAM:
        code, inputs = "", (timeout_s, 0.0, upstream_rewrite(program))
        function = UPSTREAM_ENTRY_FUNCTION
    else:
        code, inputs, function = program, (timeout_s, 0.0), ENTRY_FUNCTION
    limits = Limits(
        timeout_s=limit + _BACKSTOP_S,
        # The kernel stops a program that computes past its budget however it treats the clock
        # (the sandbox allows the rounded-up value plus one second).
        cpu_s=timeout_s,
        # The simulator ends a run past MAX_CALLS; the channel's own bound only stops a program
        # that keeps calling after that.
        max_host_calls=MAX_CALLS + 1000,
        host_call_bytes=_HOST_CALL_BYTES,
    )
    tests = CallTests(function=function, inputs=(inputs,), call_timeouts_s=(limit,))
    return Job(code=code, prelude=STUBS_SOURCE, tests=tests, limits=limits, service=service)


_REPORT_KEYS = frozenset({"status", "error_type", "error_message", "error_line"})
_RUN_STATUSES = frozenset({"success", "timeout", "exception"})
_TIMEOUT_STATUSES = (Status.TIMEOUT, Status.OUTPUT_EXCEEDED)  # the benchmark sees a blocked pipe as a timeout
_Ending = tuple[str, str | None, str | None, int | None]


def _reported(report: Any) -> _Ending:
    """How the program ended, from the plain data the stubs' entry function returned.

    That data comes from the process that ran the program, which can rebind the entry function and
    return anything: it is checked field by field, and ``ValueError`` says what is wrong.
    """
    if type(report) is not dict or set(report) != _REPORT_KEYS:
        raise ValueError(f"not a report with exactly the keys {sorted(_REPORT_KEYS)}")
    status = report["status"]
    if status not in _RUN_STATUSES:
        raise ValueError(f"unknown status {str(status)[:50]!r}")
    texts = []
    for key in ("error_type", "error_message"):
        value = report[key]
        if value is not None and type(value) is not str:
            raise ValueError(f"{key} is not a string")
        texts.append(None if value is None else value[:_MAX_TEXT])
    line = report["error_line"]
    if line is not None and (type(line) is not int or not 0 < line <= _MAX_LINE):
        raise ValueError("error_line is not a line number")
    return status, texts[0], texts[1], line


def _ending(result: JobResult) -> _Ending | None:
    """How the job ended as its process reported it, or None when the sandbox had to stop it."""
    outcome = result.tests[0] if result.tests else None
    if outcome is not None and outcome.passed:
        try:
            return _reported(outcome.value)
        except ValueError as exc:  # the program replaced the stubs' entry function
            return "exception", "InvalidReport", f"the run's report is malformed: {exc}", None
    if result.status in _TIMEOUT_STATUSES or (outcome is not None and outcome.error_type == "CallTimeout"):
        return None
    # A job-level error (syntax, load time) comes before the entry call's, which then never ran.
    if result.error_type is None and outcome is not None and outcome.error_type is not None:
        return "exception", outcome.error_type, outcome.error_message, outcome.error_line
    return "exception", result.error_type or result.status.value, result.error_message, result.error_line


def decode_run(result: JobResult) -> RobotRun:
    """The run a robot job's result describes: its world service's trace and clock, the kernel's CPU
    count, and (for how the program ended, only) its own report."""
    service = result.service
    if not isinstance(service, RobotService):
        raise TypeError("decode_run reads the result of a robot_job, whose service is a RobotService")
    if service.fault is not None:
        error = f"RobotSimulatorError: the simulator failed ({service.fault})"
        return RobotRun("exception", service.trace(timed_out=False), "RobotSimulatorError", error)
    if service.expired:
        # The benchmark kills the process at the deadline, whatever the program did afterwards.
        return RobotRun("timeout", service.trace(timed_out=True))
    ending = _ending(result)
    # A program that escaped the simulated clock cannot say what it did in time: the sandbox stopped
    # it, or it says it ended in time while the kernel's count of its CPU time plus the sleeps counted
    # here is over the budget (its readings were false, or it swallowed the timeout and kept going).
    # No slack: the process's work after its last reading (its exit, 1-8 ms measured) is part of its
    # time, so an honest run that ends in the last milliseconds of its budget is a timeout as well.
    if ending is None or (ending[0] != "timeout" and result.cpu_s + service.slept > service.timeout_s):
        return RobotRun("timeout", Trace())
    status, error_type, message, line = ending
    return RobotRun(status, service.trace(timed_out=status == "timeout"), error_type, message, line)


def _wire(value: Any) -> Any:
    """``value`` as it comes out of the host-call channel (the sandbox's codec, through JSON)."""
    return json.loads(json.dumps(encode_value(value)), object_hook=decode_hook)


def run_in_process(
    program: str,
    state: dict[str, Any],
    timeout_s: float = SIMULATION_TIMEOUT_S,
    semantics: Semantics = INJECTED,
) -> RobotRun:
    """Run a *trusted* program (our own: tests, reference programs) in this process.

    The same stubs, channel codec, simulator and verdict as a sandbox job, without the sandbox's
    isolation: fast enough to test the simulator call by call. Never for a model's programs.
    """
    service = RobotService(state, timeout_s, check_semantics(semantics))
    namespace: dict[str, Any] = {
        "__name__": "__execrl__",
        "_execrl_host_call": lambda request: _wire(service(_wire(request))),
        "HostCallError": HostCallError,
    }
    exec(compile(STUBS_SOURCE, "<prelude>", "exec"), namespace)  # noqa: S102 - our own stubs
    start = time.process_time()
    if semantics == UPSTREAM:
        report = namespace[UPSTREAM_ENTRY_FUNCTION](timeout_s, start, upstream_rewrite(program))
    else:
        try:
            exec(compile(program, "<candidate>", "exec"), namespace)  # noqa: S102 - trusted, see above
        except Exception as exc:  # noqa: BLE001 - a crash at load, as the sandbox reports it
            line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
            return RobotRun("exception", service.trace(timed_out=False), type(exc).__name__, str(exc), line)
        report = namespace[ENTRY_FUNCTION](timeout_s, start)
    outcome = TestOutcome(0, True, value=_wire(report))
    used = time.process_time() - start
    return decode_run(JobResult(Status.PASSED, tests=(outcome,), cpu_s=used, service=service))
