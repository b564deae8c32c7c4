"""MBPP+ evaluation with EvalPlus 0.3.1's verdicts, run in execrl's sandbox.

Each sample runs twice, once per split (base, plus), each in a fresh process: state carries across
the inputs of a split, never between splits. Return values come back as data and are judged here
(:mod:`execrl.eval.mbppplus_oracle`). A sample counts for MBPP+ when both splits pass.
See docs/mbpp.md for where execrl deliberately differs from EvalPlus.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from execrl.eval.mbppplus_expected import ExpectedOutputs, ExpectedOutputStore
from execrl.eval.mbppplus_jobs import SPLITS, Split, inputs_of, split_job
from execrl.eval.mbppplus_oracle import OutputChecker
from execrl.eval.passk import mean_pass_at_k
from execrl.eval.samples import LoadedSamples, Sample, coerce_samples, known_samples
from execrl.eval.scheduling import run_longest_first
from execrl.sandbox import JobResult, SandboxBackend, Status, TestOutcome, default_sandbox
from execrl.tasks.mbppplus import MbppPlusDataset, load_mbppplus, task_number
from execrl.tasks.mbppplus_fixups import serialize_failing_inputs
from execrl.tasks.types import PlusTask

Verdict = Literal["pass", "fail", "timeout"]
PASS: Verdict = "pass"
FAIL: Verdict = "fail"
TIMEOUT: Verdict = "timeout"

_VANISHED = (Status.TIMEOUT, Status.KILLED, Status.CRASHED)


@dataclass(frozen=True)
class SplitVerdict:
    """One split's verdict; ``fail_tests`` holds the first failing input (EvalPlus's default report)."""

    status: Verdict
    fail_tests: tuple[tuple[Any, ...], ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class MbppPlusResult:
    task_id: str
    solution: str
    base: SplitVerdict
    plus: SplitVerdict

    @property
    def passed(self) -> bool:
        """Whether the sample solves the MBPP+ task (base and plus both pass)."""
        return self.base.status == PASS and self.plus.status == PASS


@dataclass
class MbppPlusReport:
    """Results per task (in the order tasks first appear in the samples), as EvalPlus reports them."""

    results: dict[str, list[MbppPlusResult]]
    dataset_hash: str  # EvalPlus's "hash": the md5 of the data file
    date: str = field(default_factory=lambda: datetime.now().strftime("%Y-%m-%d %H:%M"))
    problems: list[str] = field(default_factory=list)

    def pass_at_k(self) -> dict[str, dict[str, float]]:
        """``{"base": {"pass@1": ...}, "base+plus": {...}}`` over the evaluated tasks."""
        totals = [len(r) for r in self.results.values()]
        base = [sum(x.base.status == PASS for x in r) for r in self.results.values()]
        plus = [sum(x.passed for x in r) for r in self.results.values()]
        return {"base": mean_pass_at_k(totals, base), "base+plus": mean_pass_at_k(totals, plus)}

    def to_evalplus_json(self) -> dict[str, Any]:
        """The content of EvalPlus 0.3.1's ``*_eval_results.json``."""
        return {
            "date": self.date,
            "hash": self.dataset_hash,
            "eval": {
                task_id: [_evalplus_record(result) for result in results]
                for task_id, results in self.results.items()
            },
        }

    def to_json(self) -> dict[str, Any]:
        """EvalPlus's schema plus ``summary`` (counts and pass@k) and ``problems`` (skipped samples)."""
        summary = {
            "tasks": len(self.results),
            "samples": sum(map(len, self.results.values())),
            **self.pass_at_k(),
        }
        return {**self.to_evalplus_json(), "summary": summary, "problems": list(self.problems)}


def _evalplus_record(result: MbppPlusResult) -> dict[str, Any]:
    number = task_number(result.task_id)
    return {
        "task_id": result.task_id,
        "solution": result.solution,
        "base_status": result.base.status,
        "plus_status": result.plus.status,
        "base_fail_tests": serialize_failing_inputs(number, list(result.base.fail_tests)),
        "plus_fail_tests": serialize_failing_inputs(number, list(result.plus.fail_tests)),
    }


def _never_called(outcome: TestOutcome) -> bool:
    # No input was tried: the program did not load, or it lacks the function (see mbppplus_jobs).
    return outcome.error_type in ("NotRun", "MissingFunction")


def _stop_status(result: JobResult) -> Verdict:
    """Killed, crashed or gone without a word (``os._exit``): EvalPlus gets no verdict and says timeout."""
    return TIMEOUT if result.status in _VANISHED or result.error_type == "EarlyExit" else FAIL


def _stopped_verdict(
    result: JobResult, index: int, inputs: tuple[tuple, ...], failed: TestOutcome
) -> SplitVerdict:
    status = _stop_status(result)
    fail_tests = () if index == 0 and _never_called(failed) else (inputs[index],)
    reason = f"{result.status.value}: {result.error_type}: {result.error_message}"
    if failed.error_type not in (None, "NotRun"):
        reason = f"input {index}: {failed.error_type}: {failed.error_message}"
    return SplitVerdict(status, fail_tests, reason)


def judge_split(result: JobResult, task: PlusTask, split: Split, expected: ExpectedOutputs) -> SplitVerdict:
    """EvalPlus's verdict on one split: the first input whose call failed or whose output differs decides."""
    inputs = inputs_of(task, split)
    if not inputs:  # the job only checked that the function exists
        if result.status is Status.PASSED:
            return SplitVerdict(PASS)
        return SplitVerdict(_stop_status(result), (), f"{result.status.value}: {result.error_message}")
    checker = OutputChecker(task.entry_point, task.atol)
    outputs = expected.outputs(split)
    for index, outcome in enumerate(result.tests):
        if not outcome.passed:
            if _never_called(outcome):
                return _stopped_verdict(result, index, inputs, outcome)
            reason = f"input {index}: {outcome.error_type}: {outcome.error_message}"
            return SplitVerdict(FAIL, (inputs[index],), reason)
        if not checker.check(outcome.value, outputs[index], inputs[index]):
            reason = f"input {index}: expected {outputs[index]!r:.200}, got {outcome.value!r:.200}"
            return SplitVerdict(FAIL, (inputs[index],), reason)
    if len(result.tests) == len(inputs):
        return SplitVerdict(PASS)
    return SplitVerdict(
        _stop_status(result), (), f"{result.status.value}: {result.error_type}: {result.error_message}"
    )


def evaluate_mbppplus(
    samples: LoadedSamples | Iterable[Sample | Mapping[str, Any]],
    data_dir: str | os.PathLike[str] | None = None,
    sandbox: SandboxBackend | None = None,
    progress: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    dataset: MbppPlusDataset | None = None,
    reference_sandbox: SandboxBackend | None = None,
) -> MbppPlusReport:
    """Evaluate samples on MBPP+ (base and plus tests) with EvalPlus 0.3.1's verdicts.

    Tasks without samples are not evaluated; samples with unknown task ids or malformed records are
    reported in ``report.problems`` and skipped. Expected outputs are computed once and cached, by the
    canonical solutions in ``reference_sandbox`` (default: a pool of their own, never the candidates').
    Each job is judged as it finishes, and only its verdict is kept.
    """
    loaded = samples if isinstance(samples, LoadedSamples) else coerce_samples(samples)
    dataset = dataset if dataset is not None else load_mbppplus(data_dir)
    kept, problems = known_samples(loaded, dataset.tasks, "MBPP+")
    sandbox = sandbox if sandbox is not None else default_sandbox()
    store = ExpectedOutputStore(dataset, cache_dir)
    store.ensure([s.task_id for s in kept], reference_sandbox, progress)
    expected = {task_id: store.get(task_id) for task_id in dict.fromkeys(s.task_id for s in kept)}
    digested = {(task_id, split): ref.digested(split) for task_id, ref in expected.items() for split in SPLITS}

    programs = [sample.program(dataset.tasks[sample.task_id].prompt) for sample in kept]
    jobs, weights = [], []
    for program, sample in zip(programs, kept):
        reference, task = expected[sample.task_id], dataset.tasks[sample.task_id]
        for split in SPLITS:
            jobs.append(split_job(program, task, split, reference.times(split), digested[task.task_id, split]))
            weights.append(sum(reference.times(split)))
    def verdict(index: int, result: JobResult) -> SplitVerdict:
        sample = kept[index // 2]
        return judge_split(result, dataset.tasks[sample.task_id], SPLITS[index % 2], expected[sample.task_id])

    verdicts = run_longest_first(sandbox, jobs, weights, progress, "MBPP+ samples", reduce=verdict)

    report = MbppPlusReport(results={}, dataset_hash=dataset.md5, problems=problems)
    for i, sample in enumerate(kept):
        base, plus = verdicts[2 * i], verdicts[2 * i + 1]
        report.results.setdefault(sample.task_id, []).append(
            MbppPlusResult(sample.task_id, programs[i], base, plus)
        )
    return report
