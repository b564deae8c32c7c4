"""The JSONL records of ``execrl reward``: samples to score in, scored samples out.

Input lines: ``{"prompt", "response", "tests": [assert, ...]}`` or ``{"prompt", "response",
"task_id": "mbpp/<n>"}`` (other keys are ignored), optionally with ``shown_tests``: the indices of
the tests the prompt showed (by default, those whose text appears in ``prompt``); bytes that are not UTF-8
and lone surrogates read as U+FFFD. Output lines: the sample, its total ``reward``,
each judge's ``components`` (score, findings as response spans), and ``tokens`` / ``token_rewards``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from execrl.errors import ExecrlError
from execrl.rewards.config import validation_message
from execrl.rewards.extract import replace_surrogates
from execrl.rewards.formula import RewardBreakdown
from execrl.tasks import Task, load_mbpp
from execrl.tasks.types import shown_asserts


class RewardSample(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    prompt: str = ""
    response: str
    tests: list[str] | None = None
    task_id: str | int | None = None
    shown_tests: list[int] | None = None

    @model_validator(mode="after")
    def _has_tests(self) -> RewardSample:
        if self.tests is None and self.task_id is None:
            raise ValueError("give `tests` (a list of assert strings) or a `task_id` such as mbpp/11")
        return self


@dataclass(frozen=True)
class SampleLine:
    """A readable input line: its 1-based number, the sample, and the tests (and setup) to judge it by;
    ``shown_tests``: the indices of the tests its prompt showed."""

    line: int
    sample: RewardSample
    tests: tuple[str, ...]
    test_setup: str
    shown_tests: tuple[int, ...] = ()


@dataclass(frozen=True)
class BadLine:
    line: int
    problem: str


def task_tests(
    task_id: str | int, data_dir: str | os.PathLike[str] | None = None
) -> tuple[tuple[str, ...], str]:
    """The assert tests and setup code of a benchmark task (only ``mbpp/<n>`` so far)."""
    benchmark, _, number = str(task_id).partition("/")
    if benchmark.lower() != "mbpp" or not number.isdigit():
        raise ExecrlError(f"unknown task_id {task_id!r}: supported are mbpp/<n> (n = 1..974)")
    task = _mbpp_tasks(str(data_dir) if data_dir is not None else None).get(f"Mbpp/{int(number)}")
    if task is None:
        raise ExecrlError(f"task_id {task_id!r}: no MBPP task {number} in the data")
    return task.test_asserts, task.test_setup


@lru_cache(maxsize=4)
def _mbpp_tasks(data_dir: str | None) -> dict[str, Task]:
    return {task.task_id: task for task in load_mbpp(data_dir)}


def read_samples(
    path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None
) -> Iterator[SampleLine | BadLine]:
    """Each line of a JSONL file as a ``SampleLine``, or a ``BadLine`` saying what is wrong with it."""
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 -- closed by the `with` below
    except OSError as exc:
        raise ExecrlError(f"cannot read samples {path}: {exc.strerror or exc}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                # Undecodable bytes read as U+FFFD; stdlib json (unlike pydantic's parser) keeps lone
                # surrogates, which the judges then report instead of losing the line.
                sample = RewardSample.model_validate(json.loads(raw.decode("utf-8", errors="replace")))
            except json.JSONDecodeError as exc:
                yield BadLine(number, f"not valid JSON ({exc})")
                continue
            except ValidationError as exc:
                yield BadLine(number, validation_message(exc, source="sample").replace("\n", "; "))
                continue
            # Tokenizers cannot take lone surrogates; U+FFFD keeps every offset (the judges then see
            # the same character that the tokens show).
            sample = sample.model_copy(update={"response": replace_surrogates(sample.response)})
            if sample.tests is not None:
                tests, setup = tuple(sample.tests), ""
            else:
                try:
                    tests, setup = task_tests(sample.task_id, data_dir)
                except ExecrlError as exc:
                    yield BadLine(number, str(exc))
                    continue
            if sample.shown_tests is None:
                shown = shown_asserts(sample.prompt, tests)
            elif all(0 <= i < len(tests) for i in sample.shown_tests):
                shown = tuple(sample.shown_tests)
            else:
                yield BadLine(
                    number, f"shown_tests {sample.shown_tests} are not indices of its {len(tests)} tests"
                )
                continue
            yield SampleLine(number, sample, tests, setup, shown)


class FindingOut(BaseModel):
    start: int
    end: int
    severity: float
    rule: str
    message: str


class ComponentOut(BaseModel):
    score: float  # the judge's raw score
    normalized: float
    reward: float  # weight * normalized: this judge's part of ``reward``
    credit: str
    findings: list[FindingOut]


class ScoredSample(BaseModel):
    """One output line of ``execrl reward`` (and one input record of ``execrl show``)."""

    line: int
    prompt: str
    response: str
    task_id: str | int | None = None
    reward: float
    components: dict[str, ComponentOut]
    tokens: list[str]
    token_rewards: list[float]

    @classmethod
    def build(
        cls, item: SampleLine, breakdown: RewardBreakdown, offsets: list[tuple[int, int]], tokens: list[str]
    ) -> ScoredSample:
        """``tokens``: each token's text for display, one per span in ``offsets``."""
        return cls(
            line=item.line,
            prompt=item.sample.prompt,
            response=item.sample.response,
            task_id=item.sample.task_id,
            reward=breakdown.total,
            components={
                part.name: ComponentOut(
                    score=part.raw,
                    normalized=part.normalized,
                    reward=part.reward,
                    credit=part.credit,
                    findings=[FindingOut(**vars(f)) for f in part.result.findings],
                )
                for part in breakdown.components
            },
            tokens=tokens,
            token_rewards=breakdown.token_rewards(offsets),
        )
