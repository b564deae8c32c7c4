"""The task records that loaders produce and evaluators, rewards and trainers consume."""

from __future__ import annotations

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
