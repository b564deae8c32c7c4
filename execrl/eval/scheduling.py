"""Running a batch of sandbox jobs longest first, so that a long job does not start last and run alone."""

from __future__ import annotations

from collections.abc import Sequence

from execrl.sandbox import Job, JobResult, Sandbox


def run_longest_first(
    sandbox: Sandbox, jobs: Sequence[Job], weights: Sequence[float], progress: bool, description: str
) -> list[JobResult]:
    """Run ``jobs`` in decreasing order of ``weights`` (their expected cost); results in the order of ``jobs``."""
    order = sorted(range(len(jobs)), key=lambda i: -weights[i])
    ran = sandbox.run([jobs[i] for i in order], progress=progress, description=description)
    results: list[JobResult | None] = [None] * len(jobs)
    for i, result in zip(order, ran):
        results[i] = result
    return results  # type: ignore[return-value]
