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


# The token text the learning-direction toys reward or penalise; tests/rl/test_learning_direction.py
# picks it from the model and sets it before training.
TARGET = ""


def starts_with_target(batch: Sequence) -> list[JudgeResult]:
    """+1 when the response starts with ``TARGET``, else 0."""
    return [JudgeResult(1.0 if TARGET and candidate.response.startswith(TARGET) else 0.0) for candidate in batch]


def penalise_target(batch: Sequence) -> list[JudgeResult]:
    """-1 for a response holding ``TARGET``, with a finding on each occurrence: the only thing that
    tells one response from another is that located penalty."""
    results = []
    for candidate in batch:
        text, spots, at = candidate.response, [], candidate.response.find(TARGET) if TARGET else -1
        while at >= 0:
            spots.append(at)
            at = text.find(TARGET, at + len(TARGET))
        findings = tuple(Finding(i, i + len(TARGET), 1.0, "target", "the penalised token") for i in spots)
        results.append(JudgeResult(-1.0 if spots else 0.0, findings))
    return results
