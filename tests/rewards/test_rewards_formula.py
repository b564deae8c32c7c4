from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from execrl.credit import token_offsets
from execrl.records import Finding, JudgeResult
from execrl.rewards import Candidate, JudgeSettings, RewardFormula, RunningStats, parse_config, register_judge


class FromTaskSettings(JudgeSettings):
    pass


@register_judge("score_from_task", FromTaskSettings, credit="uniform")
class FromTaskJudge:
    """Scores each candidate with ``candidate.task`` (a float): lets tests choose raw scores."""

    def __init__(self, settings: FromTaskSettings) -> None:
        pass

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        return [JudgeResult(float(c.task)) for c in batch]


class RobotApiSettings(JudgeSettings):
    failing_call: str = "go_to"


@register_judge("robot_api_for_tests", RobotApiSettings)
class RobotApiJudge:
    """The shape of the simulator judge: an API call that fails in the simulated world is a finding on
    the line that made the call (the real one runs the program in the sandbox with the simulator as
    ``Job.prelude`` and reads ``JobResult.error_line``)."""

    def __init__(self, settings: RobotApiSettings) -> None:
        self.failing_call = settings.failing_call

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        results = []
        for candidate in batch:
            lines = candidate.code.splitlines()
            bad = [n for n, line in enumerate(lines, start=1) if f"{self.failing_call}(" in line]
            if not bad:
                results.append(JudgeResult(1.0))
                continue
            start, end = candidate.extracted.lines_span(bad[0])
            finding = Finding(
                start, end, 1.0, "RobotExecutionError", f"{self.failing_call}: no such location"
            )
            results.append(JudgeResult(-1.0, (finding,)))
        return results


def formula(judges: dict) -> RewardFormula:
    return RewardFormula(parse_config({"judges": judges}))


def batch(*scores: float) -> list[Candidate]:
    return [Candidate.from_response("x = 1", task=s) for s in scores]


def test_total_is_the_weighted_sum() -> None:
    f = formula(
        {"a": {"kind": "score_from_task", "weight": 2.0}, "b": {"kind": "score_from_task", "weight": -0.5}}
    )
    (result,) = f.score_batch(batch(3.0)).breakdowns
    assert [(c.name, c.raw, c.reward) for c in result.components] == [("a", 3.0, 6.0), ("b", 3.0, -1.5)]
    assert result.total == 4.5


def test_clipping_applies_before_the_weight() -> None:
    f = formula({"a": {"kind": "score_from_task", "weight": 2.0, "clip": [-1, 1]}})
    rewards = [b.total for b in f.score_batch(batch(-5.0, 0.25, 7.0)).breakdowns]
    assert rewards == [-2.0, 0.5, 2.0]


def test_running_normalisation_uses_every_score_seen() -> None:
    f = formula({"a": {"kind": "score_from_task", "normalize": True}})
    first = [b.component("a").normalized for b in f.score_batch(batch(1.0, 3.0)).breakdowns]
    assert first == pytest.approx([-1.0, 1.0])  # mean 2, std 1
    second = [b.component("a").normalized for b in f.score_batch(batch(5.0)).breakdowns]
    values = [1.0, 3.0, 5.0]
    mean, std = 3.0, math.sqrt(sum((v - 3.0) ** 2 for v in values) / 3)
    assert second == pytest.approx([(5.0 - mean) / std])
    assert f.stats["a"].count == 3


def test_running_stats_match_a_direct_computation() -> None:
    stats = RunningStats()
    chunks = [[0.5, -1.0, 2.0], [3.0], [], [-4.0, 0.0]]
    for chunk in chunks:
        stats.update(chunk)
    values = [v for chunk in chunks for v in chunk]
    mean = sum(values) / len(values)
    assert stats.mean == pytest.approx(mean)
    assert stats.std == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)))
    assert RunningStats().normalize(2.0) == 2.0  # nothing seen yet: unchanged


def test_token_rewards_conserve_the_total_and_localize_api_errors(tiny_tokenizer) -> None:
    f = formula({"robot": {"kind": "robot_api_for_tests", "weight": 1.0}})
    response = "```python\nsay('hi')\ngo_to('kitchen')\nsay('done')\n```"
    candidate = Candidate.from_response(response)
    (breakdown,) = f.score_batch([candidate]).breakdowns
    offsets = token_offsets(tiny_tokenizer, response)
    rewards = breakdown.token_rewards(offsets)
    assert sum(rewards) == pytest.approx(breakdown.total) == pytest.approx(-1.0)
    start, end = (
        breakdown.component("robot").result.findings[0].start,
        breakdown.component("robot").result.findings[0].end,
    )
    assert response[start:end] == "go_to('kitchen')"
    on_line = [r for (s, e), r in zip(offsets, rewards, strict=True) if s < end and e > start]
    off_line = [r for (s, e), r in zip(offsets, rewards, strict=True) if not (s < end and e > start)]
    assert min(on_line) < min(off_line)  # the penalty concentrates on the calling line


def test_judge_timings_are_reported_per_judge() -> None:
    f = formula({"a": {"kind": "score_from_task"}, "b": {"kind": "score_from_task"}})
    assert set(f.score_batch(batch(1.0)).judge_seconds) == {"a", "b"}
