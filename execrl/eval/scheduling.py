"""Running a batch of sandbox jobs longest first, so that a long job does not start last and run alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from execrl.sandbox import Job, JobResult, SandboxBackend


def run_longest_first(
    sandbox: SandboxBackend,
    jobs: Sequence[Job],
    weights: Sequence[float],
    progress: bool,
    description: str,
    reduce: Callable[[int, JobResult], Any] | None = None,
) -> list[Any]:
    """Run ``jobs`` in decreasing order of ``weights`` (their expected cost); results in the order of ``jobs``.

    ``reduce(index, result)`` (``index`` into ``jobs``) is applied to each result as its job finishes,
    and the list holds what it returns, so that no job's values outlive its verdict.
    """
    order = sorted(range(len(jobs)), key=lambda i: -weights[i])
    ordered_reduce = None if reduce is None else (lambda k, result: reduce(order[k], result))
    ran = sandbox.run([jobs[i] for i in order], progress=progress, description=description, reduce=ordered_reduce)
    results: list[Any] = [None] * len(jobs)
    for i, result in zip(order, ran):
        results[i] = result
    return results
