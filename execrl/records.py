"""Typed records that travel between stages (judges -> credit -> trainer).

They live here, below every stage, so that ``credit`` can consume what ``rewards`` produces
without either importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """Something a judge found, located as a character span ``[start, end)`` of the response text."""

    start: int
    end: int
    severity: float  # > 0; how much of the judge's penalty this finding carries, relative to others
    rule: str  # e.g. "syntax", "F401", "B602", "AssertionError", "RobotExecutionError"
    message: str


@dataclass(frozen=True)
class JudgeResult:
    """One judge's verdict on one response.

    ``score`` is the judge's raw score (before its weight). ``executed_spans`` are the character
    spans of response lines that ran, for credit that only rewards executed code; ``None`` when the
    judge does not run the code. ``error`` says why the judge could not judge this response (its tool
    crashed or skipped it); ``score`` is then the judge's failure score and a finding says the same.
    """

    score: float
    findings: tuple[Finding, ...] = ()
    executed_spans: tuple[tuple[int, int], ...] | None = None
    error: str | None = None
