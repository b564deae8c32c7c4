"""Turning what the parent observed about one job into a ``JobResult``.

The job's report is untrusted data: it is decoded within a size bound, each message is checked
(kinds, indexes, line numbers, value shapes), only the first message of each kind and index counts,
and timing comes from the parent's own clock. Pass or fail is decided here, never in the job:
a call's value against its expected value, an assert's chain values through the assert's outer
expression (here, or in a judge process that never ran candidate code). Exit codes and stdout are
never trusted, so ``sys.exit(0)``, ``os._exit(0)`` or printing fake results cannot pass a job.
"""

from __future__ import annotations

import json
import math
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from execrl.sandbox.asserts import (
    AssertPlan,
    ChainValue,
    Evaluation,
    MalformedReport,
    judge_item,
    outer_tree,
    parent_evaluable,
    placeholder_function,
    read_chain_values,
)
from execrl.sandbox.runner import TIMING_SLACK_S, RawRun, decoded_size_bound
from execrl.sandbox.types import AssertTests, CallTests, Job, JobResult, Limits, Status, TestOutcome
from execrl.sandbox.worker import decode_hook

_FAULTS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGSYS}
# Exceptions that mean "the test failed", not "the program broke".
_FAILURES = {
    "AssertionError", "SystemExit", "CallTimeout", "UnsupportedValue", "TestSyntaxError", "MissingFunction",
    "WrongValue", "NotRun", "MalformedReport",
}  # fmt: skip
# What a test run alone in its own process ended with, when that process itself failed.
_STOPPED = {
    Status.TIMEOUT: "Timeout",
    Status.MEMORY_EXCEEDED: "MemoryError",
    Status.OUTPUT_EXCEEDED: "OutputLimit",
    Status.KILLED: "Killed",
    Status.CRASHED: "Crashed",
}
_STOPPED_STATUS = {name: status for status, name in _STOPPED.items()}
_DECODER = json.JSONDecoder(
    object_hook=decode_hook
)  # one decoder: json.loads(..., object_hook=) builds one per call
_MAX_TEXT = 2000


@dataclass(frozen=True)
class IsolatedTest:
    """One test statement run alone in a fresh process with the candidate (see asserts.py)."""

    statement: str
    setup: str = ""


def _decode(lines: list[bytes]) -> list[Any]:
    try:
        # All of a job's messages in one parse: an MBPP+ job sends ~100, one per test call.
        return _DECODER.decode("[" + b",".join(lines).decode("utf-8", "surrogatepass") + "]")
    except (ValueError, TypeError, KeyError, RecursionError, UnicodeDecodeError):
        return [_decode_one(line) for line in lines]  # one of them is broken: keep the others


def _decode_one(line: bytes) -> Any:
    try:
        return _DECODER.decode(line.decode("utf-8", "surrogatepass"))
    except (ValueError, TypeError, KeyError, RecursionError, UnicodeDecodeError):
        return None  # a message cut short by a kill, or not ours: as if never sent


def _text(value: Any, limit: int = _MAX_TEXT) -> str | None:
    return value[:limit] if type(value) is str else None


class Report:
    """The job's messages, decoded and checked: the first of each kind (tests: of each index)."""

    def __init__(self, job: Job, run: RawRun, n_tests: int) -> None:
        self.n_lines = _count_lines(job.code)
        self.by_kind: dict[str, dict[str, Any]] = {}
        self.tests: dict[int, dict[str, Any]] = {}
        self.durations: dict[int, float] = {}
        self.too_large = decoded_size_bound(b"\n".join(run.lines)) > job.limits.result_mb << 20
        if self.too_large:
            return
        messages = _decode(run.lines)
        for message, arrival in zip(messages, run.arrivals):
            if type(message) is not dict or type(message.get("k")) is not str:
                continue
            kind = message["k"]
            if kind == "test":
                index = message.get("i")
                if type(index) is int and 0 <= index < n_tests and index not in self.tests:
                    self.tests[index] = message
            else:
                self.by_kind.setdefault(kind, message)
        # Each call's time, from the parent's clock: from the later of the job's "loaded" message and
        # the previous call's result, to this call's result.
        start = run.first_arrival.get(("loaded", -1), run.started)
        previous = start
        for index in range(n_tests):
            arrival = run.first_arrival.get(("test", index))
            if arrival is None:
                break
            self.durations[index] = max(0.0, arrival - previous)
            previous = max(previous, arrival)

    def line(self, value: Any) -> int | None:
        """A line number the job reported, if it is one of the candidate's lines."""
        return value if type(value) is int and 1 <= value <= self.n_lines else None

    def error_fields(self, message: dict[str, Any] | None) -> dict[str, Any]:
        found = message or {}
        return {
            "error_type": _text(found.get("type"), 100),
            "error_message": _text(found.get("msg")),
            "error_line": self.line(found.get("line")),
        }

    def executed_lines(self) -> frozenset[int]:
        lines = self.by_kind.get("done", {}).get("lines")
        if type(lines) is not list:
            return frozenset()
        return frozenset(x for x in lines[: self.n_lines] if self.line(x) is not None)


def _count_lines(code: str | bytes) -> int:
    return (code.count(b"\n") if isinstance(code, bytes) else code.count("\n")) + 1


def _error_outcome(index: int, report: Report, message: dict[str, Any], duration: float) -> TestOutcome:
    fields = report.error_fields(message)
    return TestOutcome(
        index,
        False,
        None,
        fields["error_type"] or "Exception",
        fields["error_message"],
        fields["error_line"],
        duration,
    )


def _call_outcome(
    index: int, message: dict[str, Any] | None, job: Job, report: Report, run: RawRun
) -> TestOutcome:
    tests = job.tests
    assert isinstance(tests, CallTests)
    duration = report.durations.get(index, 0.0)
    limits = tests.call_timeouts_s
    over = limits is not None and (
        run.call_timeout == index or (message is not None and duration > limits[index] + TIMING_SLACK_S)
    )
    if over:
        return TestOutcome(
            index,
            False,
            error_type="CallTimeout",
            error_message="the call ran past its time limit",
            duration_s=duration,
        )
    if message is None:
        return TestOutcome(index, False, error_type="NotRun", error_message="the test did not run")
    if "vals" not in message:
        return _error_outcome(index, report, message, duration)
    values = message["vals"]
    if type(values) is not list or len(values) != 1:
        return TestOutcome(
            index,
            False,
            error_type="MalformedReport",
            error_message="not exactly one value",
            duration_s=duration,
        )
    value = values[0]
    passed = True if tests.expected is None else _equal(value, tests.expected[index])
    text = None if passed else f"expected {tests.expected[index]!r:.300}, got {value!r:.300}"
    return TestOutcome(index, passed, value, None if passed else "WrongValue", text, None, duration)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


# ----------------------------------------------------------------------------------------------
# Assert tests
# ----------------------------------------------------------------------------------------------

JudgeRunner = Callable[[str, tuple[str, ...], list[tuple[str, list]]], list[Any] | None]
IsolatedRunner = Callable[[AssertPlan], JobResult]


def _assert_outcomes(
    job: Job,
    plans: list[AssertPlan],
    report: Report,
    judge: JudgeRunner,
    isolated: IsolatedRunner,
    loaded: bool,
) -> list[TestOutcome]:
    tests = job.tests
    assert isinstance(tests, AssertTests)
    split = [i for i, p in enumerate(plans) if p.mode == "split"]
    outcomes: dict[int, TestOutcome] = {}
    to_judge: list[tuple[int, list[ChainValue], Any]] = []
    for wire_index, index in enumerate(split):
        plan = plans[index]
        message = report.tests.get(wire_index)
        duration = report.durations.get(wire_index, 0.0)
        if message is None:
            outcomes[index] = TestOutcome(
                index, False, error_type="NotRun", error_message="the test did not run"
            )
            continue
        try:
            values = read_chain_values(plan, message.get("vals"), report.line)
        except MalformedReport as exc:
            outcomes[index] = TestOutcome(
                index, False, error_type="MalformedReport", error_message=str(exc), duration_s=duration
            )
            continue
        depths = [v.depth for v in values]
        tree = outer_tree(plan.test, plan.chains, depths)
        shown = tuple(v.value for v in values)
        if parent_evaluable(tree):
            outcomes[index] = _judged_here(index, tree, values, duration, shown)
        else:
            to_judge.append((index, values, tree))
    if to_judge:
        needs_setup = any(plans[i].needs_setup for i, _, _ in to_judge)
        modules = tuple(sorted({m for i, _, _ in to_judge for m in plans[i].modules}))
        items = [judge_item(tree, values) for _, values, tree in to_judge]
        answers = judge(tests.setup if needs_setup else "", modules, items)
        for position, (index, values, _) in enumerate(to_judge):
            answer = answers[position] if answers is not None and position < len(answers) else None
            outcomes[index] = _judged_outside(index, answer, values, tuple(v.value for v in values))
    for index, plan in enumerate(plans):
        if plan.mode == "invalid":
            outcomes[index] = TestOutcome(
                index, False, error_type="TestSyntaxError", error_message=plan.reason
            )
        elif plan.mode == "isolated":
            if not loaded:
                outcomes[index] = TestOutcome(
                    index, False, error_type="NotRun", error_message="the test did not run"
                )
            else:
                outcomes[index] = _isolated_outcome(index, isolated(plan))
    return [outcomes[i] for i in range(len(plans))]


def _judged_here(
    index: int, tree: Any, values: list[ChainValue], duration: float, shown: tuple
) -> TestOutcome:
    evaluation = Evaluation(placeholder_function(values))
    try:
        passed = bool(evaluation.top(tree))
    except Exception as exc:  # noqa: BLE001 - a chain's error, or '<' between str and int, on plain data
        return _failed_by(index, exc, duration, shown)
    if evaluation.operands and len(evaluation.operands) == len(tree.comparators) + 1:
        shown = tuple(evaluation.operands)
    text = None if passed else f"assertion failed with values {shown!r:.300}"
    return TestOutcome(index, passed, shown, None if passed else "AssertionError", text, None, duration)


def _failed_by(index: int, exc: Exception, duration: float, shown: tuple) -> TestOutcome:
    from execrl.sandbox.asserts import ChainError

    if isinstance(exc, ChainError):
        return TestOutcome(index, False, shown, exc.error_type, exc.message, exc.line, duration)
    return TestOutcome(index, False, shown, type(exc).__name__, str(exc)[:_MAX_TEXT], None, duration)


def _judged_outside(index: int, answer: Any, values: list[ChainValue], shown: tuple) -> TestOutcome:
    if type(answer) is list and len(answer) == 2 and answer[0] == "ok" and type(answer[1]) is bool:
        text = None if answer[1] else f"assertion failed with values {shown!r:.300}"
        return TestOutcome(index, answer[1], shown, None if answer[1] else "AssertionError", text)
    if type(answer) is list and len(answer) == 2 and answer[0] == "chain" and type(answer[1]) is int:
        if 0 <= answer[1] < len(values) and values[answer[1]].error is not None:
            return _failed_by(index, values[answer[1]].error, 0.0, shown)
    if type(answer) is list and len(answer) == 3 and answer[0] == "error":
        return TestOutcome(index, False, shown, _text(answer[1], 100) or "Exception", _text(answer[2]))
    return TestOutcome(index, False, shown, "JudgeFailed", "the judge process gave no verdict for this test")


def _isolated_outcome(index: int, result: JobResult) -> TestOutcome:
    if result.status is Status.PASSED:
        return TestOutcome(index, True, duration_s=result.wall_s)
    if result.status in _STOPPED:
        return TestOutcome(
            index, False, error_type=_STOPPED[result.status], error_message=result.error_message
        )
    first = result.tests[0] if result.tests else None
    if first is not None and first.error_type not in (None, "NotRun"):
        return TestOutcome(
            index, False, None, first.error_type, first.error_message, first.error_line, result.wall_s
        )
    return TestOutcome(
        index, False, None, result.error_type or "NotRun", result.error_message, result.error_line
    )


# ----------------------------------------------------------------------------------------------


def count_tests(job: Job) -> int:
    tests = job.tests
    if isinstance(tests, AssertTests):
        return len(tests.statements)
    if isinstance(tests, CallTests):
        return len(tests.inputs)
    if isinstance(tests, IsolatedTest):
        return 1
    return 0


def wire_test_count(job: Job, plans: list[AssertPlan] | None) -> int:
    """How many test messages the job process sends (asserts: only the split ones)."""
    if plans is not None:
        return sum(p.mode == "split" for p in plans)
    return count_tests(job)


def build_result(
    job: Job,
    plans: list[AssertPlan] | None,
    run: RawRun,
    judge: JudgeRunner | None = None,
    isolated: IsolatedRunner | None = None,
) -> JobResult:
    report = Report(job, run, wire_test_count(job, plans))
    n_tests = count_tests(job)
    common = dict(
        stdout=run.stdout, stderr=run.stderr, cpu_s=run.cpu_s, wall_s=run.wall_s, service=job.service,
        executed_lines=report.executed_lines() if job.trace_lines else None,
    )  # fmt: skip
    status, error = _classify_run(job, run, report)
    if status is not None:
        outcomes = tuple(
            TestOutcome(i, False, error_type="NotRun", error_message="the test did not run")
            for i in range(n_tests)
        )
        if status is Status.TIMEOUT and run.call_timeout is not None and isinstance(job.tests, CallTests):
            pass
        return JobResult(status=status, tests=outcomes, **error, **common)
    loaded = "loaded" in report.by_kind and not any(
        k in report.by_kind for k in ("load_error", "setup_error")
    )
    if isinstance(job.tests, AssertTests):
        assert plans is not None and judge is not None and isolated is not None
        outcomes = tuple(_assert_outcomes(job, plans, report, judge, isolated, loaded))
    elif isinstance(job.tests, CallTests):
        outcomes = tuple(_call_outcome(i, report.tests.get(i), job, report, run) for i in range(n_tests))
        if "no_function" in report.by_kind:
            missing = f"the candidate defines no function named {job.tests.function!r}"
            outcomes = tuple(
                TestOutcome(i, False, error_type="MissingFunction", error_message=missing)
                for i in range(n_tests)
            )
    elif isinstance(job.tests, IsolatedTest):
        message = report.tests.get(0)
        if message is not None and message.get("ok") == 1 and len(message) == 3:
            outcomes = (TestOutcome(0, True, duration_s=report.durations.get(0, 0.0)),)
        elif message is not None:
            outcomes = (_error_outcome(0, report, message, report.durations.get(0, 0.0)),)
        else:
            outcomes = (TestOutcome(0, False, error_type="NotRun", error_message="the test did not run"),)
    else:
        outcomes = ()
    status, error = _classify_tests(job, run, report, outcomes)
    return JobResult(status=status, tests=outcomes, **error, **common)


def _classify_run(job: Job, run: RawRun, report: Report) -> tuple[Status | None, dict[str, Any]]:
    """A verdict from how the job ended, before its tests are looked at (None: look at them)."""
    none = {"error_type": None, "error_message": None, "error_line": None}
    if "syntax" in report.by_kind:
        message = report.by_kind["syntax"]
        column = message.get("col")
        return Status.SYNTAX_ERROR, {
            **report.error_fields(message),
            "error_column": column if type(column) is int and column > 0 else None,
        }
    if "prelude_error" in report.by_kind:
        return Status.CRASHED, {**report.error_fields(report.by_kind["prelude_error"]), "error_line": None}
    status = run.status
    sig = _signal(status)
    if run.timed_out:
        return Status.TIMEOUT, {
            **none,
            "error_type": "Timeout",
            "error_message": f"ran past {job.limits.timeout_s} s",
        }
    if sig == signal.SIGXCPU or (
        sig == signal.SIGKILL and run.cpu_s >= cpu_seconds(job.limits) and run.call_timeout is None
    ):
        return Status.TIMEOUT, {**none, "error_type": "CpuLimit", "error_message": "used up its CPU time"}
    file_limit = job.limits.file_size_mb << 20
    if (
        sig == signal.SIGXFSZ
        or run.overflow is not None
        or report.too_large
        or max(run.stdout_bytes, run.stderr_bytes) >= file_limit
    ):
        why = run.overflow or (
            "its report would decode to more than its result limit" if report.too_large else None
        )
        return Status.OUTPUT_EXCEEDED, {
            **none,
            "error_type": "OutputLimit",
            "error_message": why or "wrote more than the output or file-size limit",
        }
    if run.call_timeout is not None:
        return None, none  # killed from outside in a call: that call is a timeout, judged with the tests
    if sig in _FAULTS:
        name = signal.Signals(sig).name
        return Status.CRASHED, {**none, "error_type": name, "error_message": f"the process died from {name}"}
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return Status.KILLED, {
            **none,
            "error_type": name,
            "error_message": f"the process was killed by {name}",
        }
    for kind in ("load_error", "setup_error"):
        if kind in report.by_kind:
            message = report.by_kind[kind]
            fields = report.error_fields(message)
            if kind == "setup_error":
                fields["error_line"] = None
            if fields["error_type"] == "MemoryError":
                return Status.MEMORY_EXCEEDED, fields
            if fields["error_type"] == "SystemExit":
                return Status.FAILED, fields
            return Status.RUNTIME_ERROR, fields
    if "done" not in report.by_kind:
        code = (status >> 8) & 0xFF if status is not None and sig is None else None
        return Status.FAILED, {
            **none,
            "error_type": "EarlyExit",
            "error_message": f"the program exited (status {code}) before its tests finished",
        }
    return None, none


def _signal(status: int | None) -> int | None:
    if status is None or status & 0x7F == 0:
        return None
    return status & 0x7F


def _classify_tests(
    job: Job, run: RawRun, report: Report, outcomes: tuple[TestOutcome, ...]
) -> tuple[Status, dict[str, Any]]:
    none = {"error_type": None, "error_message": None, "error_line": None}
    failing = [o for o in outcomes if not o.passed]
    if not failing:
        if run.call_timeout is not None:  # killed in a call that is not one of the tests: impossible, be safe
            return Status.TIMEOUT, {**none, "error_type": "CallTimeout", "error_message": "killed in a call"}
        return Status.PASSED, none
    first = failing[0]
    fields = {
        "error_type": first.error_type,
        "error_message": first.error_message,
        "error_line": first.error_line,
    }
    stopped = [o for o in failing if o.error_type in _STOPPED_STATUS]
    if stopped:
        return _STOPPED_STATUS[stopped[0].error_type], {
            **fields,
            "error_type": stopped[0].error_type,
            "error_message": stopped[0].error_message,
            "error_line": None,
        }  # type: ignore[index]
    if any(o.error_type == "MemoryError" for o in failing):
        return Status.MEMORY_EXCEEDED, fields
    errors = [o for o in failing if o.error_type not in _FAILURES]
    if errors:
        first = errors[0]
        return Status.RUNTIME_ERROR, {
            "error_type": first.error_type,
            "error_message": first.error_message,
            "error_line": first.error_line,
        }
    return Status.FAILED, fields


def cpu_seconds(limits: Limits) -> int:
    """The CPU-time limit: as asked, or the wall timeout rounded up plus one second."""
    return int(math.ceil(limits.cpu_s if limits.cpu_s is not None else limits.timeout_s)) + 1
