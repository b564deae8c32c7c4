"""A judge for the TRL tests: cheap, in-process, and varied on a random model's output."""

from __future__ import annotations

from collections.abc import Sequence

from execrl.records import JudgeResult


def digit_share(batch: Sequence) -> list[JudgeResult]:
    """Score: the share of digits among the response's characters."""
    return [JudgeResult(sum(c.isdigit() for c in x.response) / max(len(x.response), 1)) for x in batch]
