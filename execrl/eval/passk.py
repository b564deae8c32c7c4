"""The unbiased pass@k estimator (Chen et al. 2021, as in human-eval and EvalPlus)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STANDARD_KS = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The probability that at least one of ``k`` samples drawn from ``n`` (``c`` correct) is correct.

    ``1 - C(n-c, k) / C(n, k)``, computed as a product to stay exact for large ``n``.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(
    num_samples: Sequence[int], num_correct: Sequence[int], ks: Sequence[int] = STANDARD_KS
) -> dict[str, float]:
    """``{"pass@k": mean over tasks}`` for each k in ``ks`` that every task has enough samples for."""
    if len(num_samples) != len(num_correct):
        raise ValueError("num_samples and num_correct must have one entry per task")
    if not num_samples:
        return {}
    return {
        f"pass@{k}": float(np.mean([pass_at_k(n, c, k) for n, c in zip(num_samples, num_correct)]))
        for k in ks
        if min(num_samples) >= k
    }
