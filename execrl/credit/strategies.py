"""Credit strategies: spread one judge's reward over the tokens of a response.

A strategy is a pure function ``(reward, result, offsets, **options) -> list[float]`` giving one
value per token, where ``offsets[i]`` is token ``i``'s character span ``[start, end)`` in the
response text and ``result`` is the judge's verdict on that text. Every strategy here conserves the
reward: its values sum to ``reward`` (up to float rounding), and an empty response gets ``[]``.
docs/credit.md gives the exact definitions. A new strategy is added with ``@register_strategy``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from execrl.records import Finding, JudgeResult

Span = tuple[int, int]


# (reward, result, offsets, **options) -> one value per token
Strategy = Callable[..., list[float]]


STRATEGIES: dict[str, Strategy] = {}

DEFAULT_LOCALIZED_FRACTION = 0.5


def register_strategy(name: str) -> Callable[[Strategy], Strategy]:
    """Register a strategy under ``name`` (a decorator); registering a name twice is an error."""

    def decorate(function: Strategy) -> Strategy:
        if name in STRATEGIES:
            raise ValueError(f"credit strategy {name!r} is already registered")
        STRATEGIES[name] = function
        return function

    return decorate


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise ValueError(f"unknown credit strategy {name!r}; known strategies: {known}") from None


@dataclass(frozen=True)
class CreditPart:
    """One judge's share of the reward: its weighted reward and how to spread it over the tokens."""

    strategy: str
    reward: float  # already weighted (lambda_k * R_k), normalised or clipped as configured
    result: JudgeResult
    options: Mapping[str, Any] = field(default_factory=dict)


def assign(
    strategy: str, reward: float, result: JudgeResult, offsets: Sequence[Span], **options: Any
) -> list[float]:
    """Per-token rewards from the named strategy, after checking the reward and the spans."""
    if not math.isfinite(reward):
        raise ValueError(f"reward must be a finite number, got {reward!r}")
    for index, (start, end) in enumerate(offsets):
        if not 0 <= start <= end:
            raise ValueError(f"token {index} has an invalid span ({start}, {end}); want 0 <= start <= end")
    return get_strategy(strategy)(reward, result, offsets, **options)


def combine(parts: Sequence[CreditPart], offsets: Sequence[Span]) -> list[float]:
    """The sum, token by token, of every part's per-token rewards: the dense reward of a response."""
    total = [0.0] * len(offsets)
    for part in parts:
        values = assign(part.strategy, part.reward, part.result, offsets, **part.options)
        total = [a + b for a, b in zip(total, values)]
    return total


@register_strategy("terminal")
def terminal(reward: float, result: JudgeResult, offsets: Sequence[Span]) -> list[float]:
    """The whole reward on the last token (the classic sparse RLHF reward)."""
    values = [0.0] * len(offsets)
    if values:
        values[-1] = reward
    return values


@register_strategy("uniform")
def uniform(reward: float, result: JudgeResult, offsets: Sequence[Span]) -> list[float]:
    """The reward spread evenly over all tokens."""
    if not offsets:
        return []
    return [reward / len(offsets)] * len(offsets)


@register_strategy("executed")
def executed(reward: float, result: JudgeResult, offsets: Sequence[Span]) -> list[float]:
    """The reward spread evenly over the tokens that overlap an executed span (StepCoder's masking).

    Falls back to ``uniform`` when the judge did not trace execution (``executed_spans is None``) or
    no token overlaps an executed span, so that the reward is never lost.
    """
    spans = result.executed_spans or ()
    chosen = [i for i, token in enumerate(offsets) if any(_overlap(token, span) > 0 for span in spans)]
    if not chosen:
        return uniform(reward, result, offsets)
    values = [0.0] * len(offsets)
    for i in chosen:
        values[i] = reward / len(chosen)
    return values


@register_strategy("localized")
def localized(
    reward: float,
    result: JudgeResult,
    offsets: Sequence[Span],
    fraction: float = DEFAULT_LOCALIZED_FRACTION,
) -> list[float]:
    """A penalty concentrated on the tokens of the findings, weighted by severity.

    For a negative reward, ``fraction`` of it goes to the findings' tokens: each finding carries a
    share proportional to its severity, split among the tokens it overlaps in proportion to the
    characters they share (a finding that overlaps no token goes whole to the nearest token); the
    remaining ``1 - fraction`` is spread uniformly. A non-negative reward, or findings that cannot be
    placed (none, zero severity, or only empty-span tokens), gives ``uniform``.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"localized credit fraction must be within [0, 1], got {fraction!r}")
    base = uniform(reward, result, offsets)
    if reward >= 0:
        return base
    weights = finding_weights(result.findings, offsets)
    total = sum(weights)
    if total <= 0:
        return base
    return [(1.0 - fraction) * b + fraction * reward * w / total for b, w in zip(base, weights)]


def finding_weights(findings: Sequence[Finding], offsets: Sequence[Span]) -> list[float]:
    """Severity each token carries: every finding's severity split over the tokens it touches."""
    weights = [0.0] * len(offsets)
    for finding in findings:
        if not finding.severity >= 0:  # also rejects NaN
            raise ValueError(f"finding {finding.rule!r} has severity {finding.severity!r}; want >= 0")
        if not 0 <= finding.start <= finding.end:
            raise ValueError(f"finding {finding.rule!r} has an invalid span ({finding.start}, {finding.end})")
        span = (finding.start, finding.end)
        overlaps = [_overlap(token, span) for token in offsets]
        covered = sum(overlaps)
        if covered > 0:
            for i, chars in enumerate(overlaps):
                weights[i] += finding.severity * chars / covered
            continue
        nearest = _nearest_token(span, offsets)
        if nearest is not None:
            weights[nearest] += finding.severity
    return weights


def _overlap(a: Span, b: Span) -> int:
    """Characters shared by two half-open spans."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _nearest_token(span: Span, offsets: Sequence[Span]) -> int | None:
    """The non-empty token closest to ``span`` (gap in characters); ties go to the later token.

    Ties go later so that an empty span at a token boundary lands on the token that starts there,
    i.e. the one holding the character the span points at.
    """
    best: int | None = None
    best_gap = math.inf
    for i, (start, end) in enumerate(offsets):
        if start == end:
            continue
        gap = max(0, start - span[1], span[0] - end)
        if gap <= best_gap:
            best, best_gap = i, gap
    return best
