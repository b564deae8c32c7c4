"""The task records that loaders produce and evaluators, rewards and trainers consume."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class Task:
    """One programming problem.

    ``prompt`` is what a model is shown; ``canonical_solution`` is a complete reference program
    (for MBPP+, EvalPlus's convention: it continues ``prompt``, see :attr:`PlusTask.reference_code`).
    ``test_asserts`` are assert statements run after the program, after ``test_setup``.
    """

    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    test_asserts: tuple[str, ...] = ()
    test_setup: str = ""
    challenge_asserts: tuple[str, ...] = ()
    split: str | None = None

    @property
    def shown_tests(self) -> tuple[int, ...]:
        """Indices of the ``test_asserts`` that the prompt shows (see ``shown_asserts``)."""
        return shown_asserts(self.prompt, self.test_asserts)


# What may touch a shown expression in the prompt: anything that would make it part of a longer one
# (``f(1) == 1`` is not shown by ``f(1) == 10``, nor by ``g.f(1) == 1``).
_CONTINUES_BEFORE = re.compile(r"[\w.]")
_CONTINUES_AFTER = re.compile(r"[\w.(\[]")


def shown_asserts(prompt: str, asserts: Sequence[str]) -> tuple[int, ...]:
    """Indices of the ``asserts`` that ``prompt`` shows: the statement, or its expression without
    ``assert``, appears in it as a whole (runs of whitespace compared as one space).

    Read from the text, so it holds however the prompt was written (MBPP's "Your code should pass
    these tests", the built-in tasks' "For example", an MBPP+ docstring's example).
    """
    text = " ".join(prompt.split())
    shown = []
    for index, statement in enumerate(asserts):
        expression = " ".join(statement.split())
        expression = expression.removeprefix("assert ").strip()
        if expression and _appears(text, expression):
            shown.append(index)
    return tuple(shown)


def _appears(text: str, part: str) -> bool:
    start = text.find(part)
    while start >= 0:
        end = start + len(part)
        before_ok = (
            start == 0 or not _CONTINUES_BEFORE.match(text[start - 1]) or not _CONTINUES_BEFORE.match(part[0])
        )
        after_ok = (
            end == len(text) or not _CONTINUES_AFTER.match(text[end]) or not _CONTINUES_AFTER.match(part[-1])
        )
        if before_ok and after_ok:
            return True
        start = text.find(part, start + 1)
    return False


@dataclass(frozen=True, eq=False)
class PlusTask(Task):
    """An MBPP+ task: inputs for the entry point, whose expected outputs come from the canonical solution.

    Inputs are argument tuples after EvalPlus's type fix-ups (tuples, complex numbers, ...).
    ``atol`` is the task's stated float tolerance (0 for most tasks).
    """

    base_inputs: tuple[tuple[Any, ...], ...] = ()
    plus_inputs: tuple[tuple[Any, ...], ...] = ()
    atol: float = 0.0

    @property
    def reference_code(self) -> str:
        """The program EvalPlus runs to compute expected outputs: the prompt, then the canonical solution."""
        return self.prompt + self.canonical_solution

    def solution_from_completion(self, completion: str) -> str:
        """A full program from a completion, as EvalPlus builds it: the prompt, then the completion."""
        return self.prompt + completion
