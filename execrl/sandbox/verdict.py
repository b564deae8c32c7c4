"""Turning what a worker observed about one job into a ``JobResult``.

Only an explicit "done" message from the harness can lead to a pass; exit codes and stdout are
never trusted, so ``sys.exit(0)``, ``os._exit(0)`` or printing fake results cannot pass a job.
"""

from __future__ import annotations

import json
import math
import signal
from typing import Any

from execrl.sandbox.asserts import AssertPlan
from execrl.sandbox.types import AssertTests, CallTests, Job, JobResult, Limits, Status, TestOutcome
from execrl.sandbox.worker import decode_hook

_FAULTS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGSYS}
# Exceptions that mean "the test failed", not "the program broke".
_FAILURES = {"AssertionError", "SystemExit", "CallTimeout", "UnsupportedValue", "TestSyntaxError", "MissingFunction"}


_DECODER = json.JSONDecoder(object_hook=decode_hook)  # one decoder: json.loads(..., object_hook=) builds one per call


def _messages(raw: dict[str, Any]) -> list[dict[str, Any]]:
    lines = raw["messages"]
    try:
        # All of a job's messages in one parse: an MBPP+ job sends ~100, one per test call.
        parsed = _DECODER.decode("[" + ",".join(lines) + "]")
    except (ValueError, TypeError, KeyError, RecursionError):
        parsed = [_decode_one(line) for line in lines]  # one of them is broken: keep the others
    return [message for message in parsed if isinstance(message, dict)]


def _decode_one(line: str) -> Any:
    try:
        return _DECODER.decode(line)
    except (ValueError, TypeError, KeyError, RecursionError):
        return None  # a message cut short by a kill, or not ours: as if never sent


def _outcome(index: int, message: dict[str, Any] | None, job: Job, plan: AssertPlan | None) -> TestOutcome:
    if message is None:
        return TestOutcome(index, False, error_type="NotRun", error_message="the test did not run")
    duration = float(message.get("dur", 0.0))
    if "vals" not in message:
        return TestOutcome(
            index, False, None, str(message.get("type")), message.get("msg"), message.get("line"), duration
        )
    values = message["vals"]
    if not isinstance(values, list):
        return TestOutcome(index, False, error_type="UnsupportedValue", error_message="malformed values")
    tests = job.tests
    if isinstance(tests, CallTests):
        value = values[0]
        passed = True if tests.expected is None else _equal(value, tests.expected[index])
        message_text = None if passed else f"expected {tests.expected[index]!r:.300}, got {value!r:.300}"
        return TestOutcome(index, passed, value, None if passed else "WrongValue", message_text, None, duration)
    assert plan is not None
    try:
        passed = plan.judge(values)
    except Exception as exc:  # noqa: BLE001 - e.g. '<' between str and int, evaluated on plain data
        return TestOutcome(index, False, tuple(values), type(exc).__name__, str(exc), None, duration)
    shown = tuple(values) if plan.mode == "cmp" else (values[0] if values else None)
    text = None if passed else f"assertion failed with values {shown!r:.300}"
    return TestOutcome(index, passed, shown, None if passed else "AssertionError", text, None, duration)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def build_result(job: Job, plans: list[AssertPlan] | None, raw: dict[str, Any], file_limit: int) -> JobResult:
    messages = _messages(raw)
    by_kind: dict[str, dict[str, Any]] = {}
    test_messages: dict[int, dict[str, Any]] = {}
    for message in messages:
        kind = message.get("k")
        if kind == "test" and isinstance(message.get("i"), int):
            test_messages.setdefault(message["i"], message)
        elif isinstance(kind, str):
            by_kind.setdefault(kind, message)
    n_tests = _count_tests(job)
    outcomes = tuple(
        _outcome(i, test_messages.get(i), job, plans[i] if plans else None) for i in range(n_tests)
    )
    if "no_function" in by_kind and isinstance(job.tests, CallTests):
        missing = f"the candidate defines no function named {job.tests.function!r}"
        outcomes = tuple(TestOutcome(i, False, error_type="MissingFunction", error_message=missing) for i in range(n_tests))
    common = dict(
        tests=outcomes,
        executed_lines=frozenset(by_kind["done"].get("lines", ())) if job.trace_lines and "done" in by_kind else None,
        stdout=raw["stdout"],
        stderr=raw["stderr"],
        cpu_s=raw["cpu_s"],
        wall_s=raw["wall_s"],
    )
    if "done" not in by_kind and job.trace_lines:
        common["executed_lines"] = frozenset()
    status, error = _classify(job, raw, by_kind, outcomes, file_limit)
    return JobResult(status=status, **error, **common)


def _count_tests(job: Job) -> int:
    if isinstance(job.tests, AssertTests):
        return len(job.tests.statements)
    if isinstance(job.tests, CallTests):
        return len(job.tests.inputs)
    return 0


def _error(message: dict[str, Any] | None, **override: Any) -> dict[str, Any]:
    found = message or {}
    fields = {
        "error_type": found.get("type"),
        "error_message": found.get("msg"),
        "error_line": found.get("line"),
    }
    fields.update(override)
    return fields


def _classify(
    job: Job,
    raw: dict[str, Any],
    by_kind: dict[str, dict[str, Any]],
    outcomes: tuple[TestOutcome, ...],
    file_limit: int,
) -> tuple[Status, dict[str, Any]]:
    if "syntax" in by_kind:
        message = by_kind["syntax"]
        return Status.SYNTAX_ERROR, _error(message, error_column=message.get("col"))
    if "prelude_error" in by_kind:
        return Status.CRASHED, _error(by_kind["prelude_error"], error_line=None)
    sig = raw["signal"]
    if raw["timed_out"]:
        return Status.TIMEOUT, _error(None, error_type="Timeout", error_message=f"ran past {job.limits.timeout_s} s")
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and raw["cpu_s"] >= cpu_seconds(job.limits)):
        return Status.TIMEOUT, _error(None, error_type="CpuLimit", error_message="used up its CPU time")
    if (
        sig == signal.SIGXFSZ
        or raw["result_overflow"]
        or max(raw["stdout_bytes"], raw["stderr_bytes"]) >= file_limit
    ):
        return Status.OUTPUT_EXCEEDED, _error(
            None, error_type="OutputLimit", error_message="wrote more than the output or file-size limit"
        )
    if sig in _FAULTS:
        name = signal.Signals(sig).name
        return Status.CRASHED, _error(None, error_type=name, error_message=f"the process died from {name}")
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return Status.KILLED, _error(None, error_type=name, error_message=f"the process was killed by {name}")
    for kind in ("load_error", "setup_error"):
        if kind in by_kind:
            message = by_kind[kind]
            if message.get("type") == "MemoryError":
                return Status.MEMORY_EXCEEDED, _error(message)
            if message.get("type") == "SystemExit":
                return Status.FAILED, _error(message)
            return Status.RUNTIME_ERROR, _error(message, error_line=message.get("line") if kind == "load_error" else None)
    if "done" not in by_kind:
        return Status.FAILED, _error(
            None,
            error_type="EarlyExit",
            error_message=f"the program exited (status {raw['exit_code']}) before its tests finished",
        )
    failing = [o for o in outcomes if not o.passed]
    if not failing:
        return Status.PASSED, _error(None)
    first = failing[0]
    fields = _error(None, error_type=first.error_type, error_message=first.error_message, error_line=first.error_line)
    if any(o.error_type == "MemoryError" for o in failing):
        return Status.MEMORY_EXCEEDED, fields
    errors = [o for o in failing if o.error_type not in _FAILURES and o.error_type not in ("WrongValue", "NotRun")]
    if errors:
        first = errors[0]
        return Status.RUNTIME_ERROR, _error(
            None, error_type=first.error_type, error_message=first.error_message, error_line=first.error_line
        )
    return Status.FAILED, fields


def cpu_seconds(limits: Limits) -> int:
    """The CPU-time limit: as asked, or the wall timeout rounded up plus one second."""
    return int(math.ceil(limits.cpu_s if limits.cpu_s is not None else limits.timeout_s)) + 1
