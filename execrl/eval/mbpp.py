"""Evaluation on the original MBPP (or sanitized MBPP): each task's assert statements in the sandbox.

The three ``test_list`` asserts decide a sample; ``challenge_test_list`` (11 tasks) runs as a separate
job and is reported separately. The operands of each comparison come back as data and are compared
here, so an object that claims equality with anything fails. For MBPP a ``completion`` is the whole
program: the prompt is prose, not code to continue.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from execrl.eval.passk import mean_pass_at_k
from execrl.eval.samples import LoadedSamples, Sample, coerce_samples, known_samples
from execrl.sandbox import AssertTests, Job, JobResult, Limits, SandboxBackend, Status, default_sandbox
from execrl.tasks.mbpp import load_mbpp, load_sanitized_mbpp
from execrl.tasks.types import Task

DEFAULT_TIMEOUT_S = 10.0
_VANISHED = (Status.TIMEOUT, Status.KILLED, Status.CRASHED)


@dataclass(frozen=True)
class AssertVerdict:
    """``status`` is ``pass``, ``fail`` or ``timeout``; ``fail_tests`` are the assert statements that failed."""

    status: str
    fail_tests: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class MbppResult:
    task_id: str
    solution: str
    tests: AssertVerdict
    challenge: AssertVerdict | None  # None when the task has no challenge tests

    @property
    def passed(self) -> bool:
        return self.tests.status == "pass"


@dataclass
class MbppReport:
    results: dict[str, list[MbppResult]]
    dataset: str  # "mbpp" or "sanitized-mbpp"
    date: str = field(default_factory=lambda: datetime.now().strftime("%Y-%m-%d %H:%M"))
    problems: list[str] = field(default_factory=list)

    def pass_at_k(self) -> dict[str, dict[str, float]]:
        """``{"tests": ...}`` over all evaluated tasks and ``{"challenge": ...}`` over those that have some."""
        totals = [len(r) for r in self.results.values()]
        passed = [sum(x.passed for x in r) for r in self.results.values()]
        with_challenge = [r for r in self.results.values() if r[0].challenge is not None]
        challenge = mean_pass_at_k(
            [len(r) for r in with_challenge],
            [
                sum(x.challenge is not None and x.challenge.status == "pass" for x in r)
                for r in with_challenge
            ],
        )
        return {"tests": mean_pass_at_k(totals, passed), "challenge": challenge}

    def to_json(self) -> dict[str, Any]:
        """``date``, ``dataset``, ``eval`` (task id -> records, like EvalPlus's), ``summary`` and ``problems``."""
        return {
            "date": self.date,
            "dataset": self.dataset,
            "eval": {task_id: [_record(x) for x in results] for task_id, results in self.results.items()},
            "summary": {
                "tasks": len(self.results),
                "samples": sum(map(len, self.results.values())),
                **self.pass_at_k(),
            },
            "problems": list(self.problems),
        }


def _record(result: MbppResult) -> dict[str, Any]:
    challenge = result.challenge
    return {
        "task_id": result.task_id,
        "solution": result.solution,
        "status": result.tests.status,
        "fail_tests": list(result.tests.fail_tests),
        "challenge_status": challenge.status if challenge else None,
        "challenge_fail_tests": list(challenge.fail_tests) if challenge else [],
    }


def judge_asserts(result: JobResult, statements: tuple[str, ...]) -> AssertVerdict:
    if result.status is Status.PASSED:
        return AssertVerdict("pass")
    status = "timeout" if result.status in _VANISHED else "fail"
    failed = tuple(s for s, outcome in zip(statements, result.tests) if not outcome.passed)
    return AssertVerdict(
        status, failed, f"{result.status.value}: {result.error_type}: {result.error_message}"
    )


def evaluate_mbpp(
    samples: LoadedSamples | Iterable[Sample | Mapping[str, Any]],
    data_dir: str | os.PathLike[str] | None = None,
    sandbox: SandboxBackend | None = None,
    progress: bool = True,
    sanitized: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> MbppReport:
    """Evaluate samples on MBPP's assert tests (``sanitized=True``: sanitized MBPP's).

    Tasks without samples are not evaluated; unknown task ids and malformed records are reported in
    ``report.problems`` and skipped. Task ids may be ``Mbpp/11``, ``11`` or ``"11"``.
    """
    loaded = samples if isinstance(samples, LoadedSamples) else coerce_samples(samples)
    tasks: dict[str, Task] = {
        t.task_id: t for t in (load_sanitized_mbpp if sanitized else load_mbpp)(data_dir)
    }
    name = "sanitized-mbpp" if sanitized else "mbpp"
    kept, problems = known_samples(loaded, tasks, name)
    sandbox = sandbox if sandbox is not None else default_sandbox()
    limits = Limits(timeout_s=timeout_s)
    jobs: list[Job] = []
    owners: list[tuple[int, bool]] = []  # (sample index, is the challenge job)
    for i, sample in enumerate(kept):
        task = tasks[sample.task_id]
        program = sample.program("")
        jobs.append(Job(code=program, tests=AssertTests(task.test_asserts, task.test_setup), limits=limits))
        owners.append((i, False))
        if task.challenge_asserts:
            tests = AssertTests(task.challenge_asserts, task.test_setup)
            jobs.append(Job(code=program, tests=tests, limits=limits))
            owners.append((i, True))
    # Each job judged as it finishes: only its verdict is kept.
    judged = sandbox.run(
        jobs, progress=progress, description=f"{name} samples",
        reduce=lambda index, result: judge_asserts(result, jobs[index].tests.statements),
    )  # fmt: skip
    verdicts = dict(zip(owners, judged))
    report = MbppReport(results={}, dataset=name, problems=problems)
    for i, sample in enumerate(kept):
        result = MbppResult(sample.task_id, sample.program(""), verdicts[(i, False)], verdicts.get((i, True)))
        report.results.setdefault(sample.task_id, []).append(result)
    return report
