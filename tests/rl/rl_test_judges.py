"""A judge for trainer tests: cheap, in-process, and varied, so advantages are not all zero."""

from __future__ import annotations

from collections.abc import Sequence

from execrl.records import Finding, JudgeResult


def digit_judge(batch: Sequence) -> list[JudgeResult]:
    """Score: the share of digits in the response, minus 0.5; a finding on the first character."""
    results = []
    for candidate in batch:
        text = candidate.response
        share = sum(c.isdigit() for c in text) / max(len(text), 1)
        findings = (Finding(0, min(1, len(text)), 1.0, "digits", "few digits"),) if text else ()
        results.append(JudgeResult(share - 0.5, findings))
    return results
