"""Statistics over seeds: mean, spread, bootstrap intervals, paired tests, and samples-to-reach on curves."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000
EXACT_SIGN_FLIPS_UP_TO = 20  # 2^20 patterns; beyond that the sign-flip test samples patterns


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Description:
    n: int
    mean: float
    std: float | None  # sample standard deviation (ddof 1); None with one value
    ci: Interval | None  # 95% percentile-bootstrap interval of the mean; None with one value


@dataclass(frozen=True)
class PairedTest:
    """``values - baseline`` over the seeds both have."""

    n: int
    mean_diff: float
    diff_ci: Interval  # 95% percentile-bootstrap interval of the mean difference
    t_p: float | None  # paired t-test, two-sided; None when the differences are all equal (t undefined)
    sign_flip_p: float  # sign-flip permutation test on the mean difference, two-sided
    sign_patterns: int  # how many sign patterns the p-value is over (2^n when exact)
    exact: bool


def bootstrap_ci(values: Sequence[float], seed: int = 0) -> Interval | None:
    """The 95% percentile-bootstrap interval of the mean; None for fewer than two values."""
    data = np.asarray(values, dtype=float)
    if len(data) < 2:
        return None
    if np.ptp(data) == 0:  # every resample has the same mean
        return Interval(float(data[0]), float(data[0]))
    from scipy.stats import bootstrap

    result = bootstrap(
        (data,), np.mean, confidence_level=CONFIDENCE, n_resamples=RESAMPLES, method="percentile",
        rng=np.random.default_rng(seed),
    )
    return Interval(float(result.confidence_interval.low), float(result.confidence_interval.high))


def describe(values: Sequence[float]) -> Description:
    data = np.asarray(values, dtype=float)
    if len(data) == 0:
        raise ValueError("describe() needs at least one value")
    std = float(np.std(data, ddof=1)) if len(data) > 1 else None
    return Description(len(data), float(np.mean(data)), std, bootstrap_ci(data))


def sign_flip_p(differences: Sequence[float], seed: int = 0) -> tuple[float, int, bool]:
    """Two-sided p-value of the mean paired difference under random signs: (p, patterns, exact).

    Exact (every one of the 2^n patterns) up to 20 pairs. The observed pattern and its mirror image always
    count, so with n pairs p is never below 2/2^n: 0.0625 with 5 seeds.
    """
    d = np.asarray(differences, dtype=float)
    if len(d) <= EXACT_SIGN_FLIPS_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
        exact = True
    else:
        signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(RESAMPLES, len(d)))
        signs[0] = 1.0  # the observed pattern is one of the sampled ones
        exact = False
    observed = abs(d.mean())
    means = np.abs(signs @ d) / len(d)
    tolerance = 1e-12 * max(1.0, observed)  # equal means computed in another order must count as equal
    return float(np.mean(means >= observed - tolerance)), len(signs), exact


def paired_t_p(differences: Sequence[float]) -> float | None:
    d = np.asarray(differences, dtype=float)
    if len(d) < 2 or np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())):
        return None
    from scipy.stats import ttest_1samp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(ttest_1samp(d, 0.0).pvalue)


def paired_test(values: Sequence[float], baseline: Sequence[float]) -> PairedTest | None:
    """Compare paired values (same seeds, same order); None with fewer than two pairs: no test is possible."""
    if len(values) != len(baseline):
        raise ValueError(f"paired values differ in length: {len(values)} vs {len(baseline)}")
    d = np.asarray(values, dtype=float) - np.asarray(baseline, dtype=float)
    if len(d) < 2:
        return None
    p, patterns, exact = sign_flip_p(d)
    ci = bootstrap_ci(d)
    assert ci is not None  # two or more pairs
    return PairedTest(len(d), float(d.mean()), ci, paired_t_p(d), p, patterns, exact)


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (fewer at the start)."""
    data = np.asarray(values, dtype=float)
    sums = np.concatenate(([0.0], np.cumsum(data)))
    ends = np.arange(1, len(data) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def samples_to_reach(
    steps: Sequence[int], rewards: Sequence[float], batch_size: int, target: float, window: int
) -> int | None:
    """Training samples (step x batch size) at which the smoothed reward first reaches ``target``; None: never."""
    smoothed = moving_average(rewards, window)
    tolerance = 1e-12 * max(1.0, abs(target))
    reached = np.flatnonzero(smoothed >= target - tolerance)
    return int(steps[reached[0]]) * batch_size if len(reached) else None


def median_samples(per_seed: Sequence[int | None]) -> float | None:
    """The median over seeds, a seed that never reached counting as infinitely many; None: not reached."""
    median = float(np.median([math.inf if s is None else s for s in per_seed]))
    return median if math.isfinite(median) else None
