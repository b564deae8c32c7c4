"""The reward formula: R = sum_k weight_k * clip(normalise(R_k)) over the configured judges.

For each judge: the raw score (``JudgeResult.score``, kept for logging), the normalised and clipped
score, and the weighted reward. With a tokenizer's offsets, the per-token rewards come from
``execrl.credit.combine`` with each judge's credit strategy. Normalisation keeps a running mean and
std per judge over every score seen so far (updated with the batch before it is normalised); the
trainer can save and restore ``RewardFormula.stats``.

One response only ever affects its own score: a judge that raises on a batch is run again on each
candidate alone, and a candidate it still raises on gets the judge's failure score with a
``judge-error`` finding. A judge that judges no response of a batch (every result an error) is run
on a trivial program in the first candidate's context; if it fails there too it is broken
(misconfigured plug-in, missing tool), and ``score_batch`` raises an ``ExecrlError`` naming it.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from execrl.credit import CreditPart, combine
from execrl.errors import ExecrlError
from execrl.records import JudgeResult
from execrl.rewards.base import Candidate, Judge, describe, failed, failure_score, judge_kind
from execrl.rewards.config import ResolvedJudge, RewardConfig, load_config, resolve

Span = tuple[int, int]
_EPS = 1e-8
# What a broken judge is run on once it has failed on a whole batch: any judge that works at all
# judges this without an error (whether the verdict is good does not matter).
CANARY_RESPONSE = "```python\ndef canary():\n    return 1\n```\n"
_log = logging.getLogger(__name__)


@dataclass
class RunningStats:
    """Mean and variance of every value seen (Chan et al.'s parallel update, one batch at a time)."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def update(self, values: Sequence[float]) -> None:
        if not values:
            return
        n = len(values)
        batch_mean = math.fsum(values) / n
        batch_m2 = math.fsum((v - batch_mean) ** 2 for v in values)
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean += delta * n / total
        self.m2 += batch_m2 + delta * delta * self.count * n / total
        self.count = total

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / self.count) if self.count > 1 else 0.0

    def normalize(self, value: float) -> float:
        """``(value - mean) / std``; with no spread yet (std 0), only the mean is removed."""
        std = self.std
        return (value - self.mean) / std if std > _EPS else value - self.mean


@dataclass(frozen=True)
class ComponentReward:
    """One judge's part of one response's reward."""

    name: str
    kind: str
    result: JudgeResult  # the raw verdict: ``result.score`` is the raw score
    normalized: float  # after normalisation and clipping, before the weight
    reward: float  # weight * normalized
    credit: str
    credit_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def raw(self) -> float:
        return self.result.score

    def credit_part(self) -> CreditPart:
        return CreditPart(self.credit, self.reward, self.result, dict(self.credit_options))


@dataclass(frozen=True)
class RewardBreakdown:
    """One response's reward: the total and every judge's part of it."""

    total: float
    components: tuple[ComponentReward, ...]

    def component(self, name: str) -> ComponentReward:
        for part in self.components:
            if part.name == name:
                return part
        raise KeyError(name)

    def token_rewards(self, offsets: Sequence[Span]) -> list[float]:
        """Per-token rewards for the response's tokens (``offsets`` from ``execrl.credit.token_offsets``)."""
        return combine([part.credit_part() for part in self.components], offsets)


@dataclass(frozen=True)
class BatchRewards:
    breakdowns: list[RewardBreakdown]
    judge_seconds: dict[str, float]  # wall time of each judge on this batch


class RewardFormula:
    """Builds the configured judges once and scores batches of candidates with them."""

    def __init__(self, config: RewardConfig | None = None) -> None:
        self.config = config if config is not None else load_config()
        self.entries: list[ResolvedJudge] = resolve(self.config)
        self.judges: dict[str, Judge] = {e.name: judge_kind(e.kind).build(e.settings) for e in self.entries}
        self.stats: dict[str, RunningStats] = {e.name: RunningStats() for e in self.entries if e.normalize}

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] | None) -> RewardFormula:
        """The formula of the YAML config at ``path`` (the default formula when ``path`` is None)."""
        return cls(load_config(path))

    def candidate(self, response: str | bytes, **fields: Any) -> Candidate:
        """A candidate extracted with this config's response-length cap (``fields``: tests, task_id, ...)."""
        return Candidate.from_response(response, max_chars=self.config.max_response_chars, **fields)

    def score_batch(self, batch: Sequence[Candidate]) -> BatchRewards:
        """Every judge on the whole batch, then each response's breakdown.

        Judges run in parallel threads: the tests judge mostly waits on sandbox processes and the
        style judge on Ruff, so the in-process judges can use that time.
        """
        with ThreadPoolExecutor(max_workers=len(self.entries), thread_name_prefix="judge") as pool:
            futures = {e.name: pool.submit(self._timed, e.name, batch) for e in self.entries}
            outcomes = {name: future.result() for name, future in futures.items()}
        columns = {name: results for name, (results, _) in outcomes.items()}
        for name, stats in self.stats.items():
            stats.update([r.score for r in columns[name]])
        breakdowns = []
        for i in range(len(batch)):
            parts = tuple(self._component(entry, columns[entry.name][i]) for entry in self.entries)
            breakdowns.append(RewardBreakdown(math.fsum(p.reward for p in parts), parts))
        return BatchRewards(breakdowns, {name: seconds for name, (_, seconds) in outcomes.items()})

    def _timed(self, name: str, batch: Sequence[Candidate]) -> tuple[list[JudgeResult], float]:
        started = time.perf_counter()
        results = self._judged(name, batch)
        return results, time.perf_counter() - started

    def _judged(self, name: str, batch: Sequence[Candidate]) -> list[JudgeResult]:
        """The judge's results, each response's failure confined to that response (module docstring)."""
        judge = self.judges[name]
        try:
            results = _checked(name, judge(batch), len(batch))
        except Exception:  # noqa: BLE001 - whatever sank the batch, find whose it is
            # One response can sink a whole batch (Ruff overflowing its stack): judge each alone.
            results = [_judged_alone(name, judge, candidate) for candidate in batch]
        errors = [r.error for r in results if r.error is not None]
        if errors and len(errors) == len(results):
            _check_alive(name, judge, batch[0], errors[0], len(batch))
        if errors:
            _log.warning(
                "judge %r could not judge %d of %d responses (first: %s)",
                name,
                len(errors),
                len(batch),
                errors[0],
            )
        return results

    def _component(self, entry: ResolvedJudge, result: JudgeResult) -> ComponentReward:
        value = self.stats[entry.name].normalize(result.score) if entry.normalize else result.score
        if entry.clip is not None:
            value = min(max(value, entry.clip[0]), entry.clip[1])
        return ComponentReward(
            entry.name, entry.kind, result, value, entry.weight * value, entry.credit, entry.credit_options
        )


def _judged_alone(name: str, judge: Judge, candidate: Candidate) -> JudgeResult:
    try:
        [result] = _checked(name, judge([candidate]), 1)
    except Exception as exc:  # noqa: BLE001
        return failed(
            candidate, failure_score(judge), f"judge {name!r} failed on this response: {describe(exc)}"
        )
    return result


def _check_alive(name: str, judge: Judge, like: Candidate, first_error: str, count: int) -> None:
    """Raise if ``judge`` cannot judge a trivial program either: then it is broken, not the responses."""
    canary = Candidate.from_response(
        CANARY_RESPONSE, tests=like.tests, test_setup=like.test_setup, task_id=like.task_id, task=like.task
    )
    try:
        [result] = _checked(name, judge([canary]), 1)
        problem = result.error
    except Exception as exc:  # noqa: BLE001
        problem = describe(exc)
    if problem is not None:
        raise ExecrlError(
            f"judge {name!r} is broken: it judged none of the {count} responses of the batch "
            f"({first_error}) nor a trivial program ({problem}); check its configuration and installation"
        )


def _checked(name: str, results: Any, expected: int) -> list[JudgeResult]:
    """A judge's output, checked to be one finite-scored JudgeResult per candidate."""
    results = list(results)
    if len(results) != expected:
        raise ExecrlError(f"judge {name!r} returned {len(results)} results for a batch of {expected}")
    for result in results:
        if not isinstance(result, JudgeResult):
            raise ExecrlError(
                f"judge {name!r} returned a {type(result).__name__}, not an execrl.records.JudgeResult"
            )
        if not math.isfinite(result.score):
            raise ExecrlError(f"judge {name!r} returned a non-finite score {result.score!r}")
    return results
