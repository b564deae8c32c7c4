"""A judge for sweep tests: cheap, in-process, and varied, so runs and arms get different rewards."""

from __future__ import annotations

from collections.abc import Sequence

from execrl.records import JudgeResult


def letters_judge(batch: Sequence) -> list[JudgeResult]:
    """Score: the share of letters in the response, minus 0.5."""
    return [
        JudgeResult(sum(c.isalpha() for c in c_.response) / max(len(c_.response), 1) - 0.5, ())
        for c_ in batch
    ]
