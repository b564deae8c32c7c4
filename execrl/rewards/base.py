"""The judge interface: a judge scores a whole batch of candidates in one call.

A judge kind is added by decorating its factory with ``register_judge``; modules in
``execrl/rewards/judges/`` are imported on first lookup, so a new file there is all it takes.

A response must only ever affect its own score: a judge that cannot judge one response (its tool
crashed or skipped the file, a ``RecursionError`` on deeply nested code, ...) gives that response its
``failure_score`` with a finding (``failed``), and ``RewardFormula`` enforces the same for judges that
raise instead.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from execrl.errors import ExecrlError
from execrl.records import Finding, JudgeResult
from execrl.rewards.extract import DEFAULT_MAX_CHARS, ExtractedCode, extract_code
from execrl.tasks.types import Task, shown_asserts


@dataclass(frozen=True)
class Candidate:
    """One response to judge: its text, the code extracted from it, and what to check it against.

    ``tests`` are assert statements (``None``: the task has none); ``shown_tests`` the indices of
    those the prompt showed (the tests judge does not reward passing them); ``task`` carries task data
    a judge may need beyond tests (a robot task's world states for the simulator judge).
    """

    response: str
    extracted: ExtractedCode
    tests: tuple[str, ...] | None = None
    test_setup: str = ""
    task_id: str | None = None
    task: Any = None
    shown_tests: tuple[int, ...] = ()

    @property
    def code(self) -> str:
        return self.extracted.code

    @classmethod
    def from_response(
        cls,
        response: str | bytes,
        *,
        tests: Sequence[str] | None = None,
        test_setup: str = "",
        task_id: str | None = None,
        task: Any = None,
        shown_tests: Sequence[int] | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> Candidate:
        """``shown_tests`` defaults to the tests that ``task``'s prompt shows, when ``task`` is a Task."""
        text = response.decode("utf-8", errors="replace") if isinstance(response, bytes) else response
        tests = None if tests is None else tuple(tests)
        if shown_tests is None:
            shown_tests = shown_asserts(task.prompt, tests) if isinstance(task, Task) and tests else ()
        return cls(
            response=text,
            extracted=extract_code(text, max_chars),
            tests=tests,
            test_setup=test_setup,
            task_id=task_id,
            task=task,
            shown_tests=tuple(shown_tests),
        )


class Judge(Protocol):
    """Scores a batch: one ``JudgeResult`` per candidate, in order, with findings as response spans.

    A judge whose worst score is not 0.0 says so in a ``failure_score`` attribute: the score of a
    response it could not judge (see ``failure_score``).
    """

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]: ...


JUDGE_ERROR = "judge-error"  # the rule of the finding on a response its judge could not judge


def failure_score(judge: Judge) -> float:
    """The score ``judge`` gives a response it could not judge: its worst, 0.0 unless it says otherwise."""
    return float(getattr(judge, "failure_score", 0.0))


def failed(candidate: Candidate, score: float, reason: str, rule: str = JUDGE_ERROR) -> JudgeResult:
    """The verdict on a response its judge could not judge: ``score``, and a finding over all the code."""
    start, end = candidate.extracted.code_span()
    return JudgeResult(score, (Finding(start, end, 1.0, rule, reason),), error=reason)


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, the message cut to 300 characters."""
    message = str(exc)
    return f"{type(exc).__name__}: {message[:300]}" if message else type(exc).__name__


class JudgeSettings(BaseModel):
    """Base of every judge's settings model: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


S = TypeVar("S", bound=JudgeSettings)


@dataclass(frozen=True)
class JudgeKind:
    """A registered judge kind: how to build it from its validated settings."""

    name: str
    settings: type[JudgeSettings]
    build: Callable[[Any], Judge]
    credit: str  # the credit strategy used when the config names none


_REGISTRY: dict[str, JudgeKind] = {}


def register_judge(
    name: str, settings: type[S], credit: str = "localized"
) -> Callable[[Callable[[S], Judge]], Callable[[S], Judge]]:
    """Register ``factory(settings) -> Judge`` under ``name``; used as a decorator."""

    def decorate(factory: Callable[[S], Judge]) -> Callable[[S], Judge]:
        if name in _REGISTRY and _REGISTRY[name].build is not factory:
            raise ValueError(f"judge kind {name!r} is already registered")
        _REGISTRY[name] = JudgeKind(name, settings, factory, credit)
        return factory

    return decorate


def _discover() -> None:
    from execrl.rewards import judges

    for info in pkgutil.iter_modules(judges.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{judges.__name__}.{info.name}")


def judge_kind(name: str) -> JudgeKind:
    """The registered judge kind ``name``; an ``ExecrlError`` listing the known kinds otherwise."""
    if name not in _REGISTRY:
        _discover()
    if name not in _REGISTRY:
        raise ExecrlError(f"unknown judge kind {name!r}; known kinds: {', '.join(judge_kinds())}")
    return _REGISTRY[name]


def judge_kinds() -> list[str]:
    _discover()
    return sorted(_REGISTRY)
