"""The default formula on hostile or degenerate responses: a defined reward, never an exception."""

from __future__ import annotations

import math

import pytest

from execrl.credit import token_offsets
from execrl.rewards import RewardFormula, load_config, parse_config


@pytest.fixture(scope="module")
def formula() -> RewardFormula:
    config = load_config().model_dump()
    config["max_response_chars"] = 5000
    return RewardFormula(parse_config(config))


CASES = {
    "empty": ("", ("assert True",)),
    "whitespace": ("   \n\t\n", ("assert True",)),
    "prose only": ("I'm sorry, I can't write that function.", ("assert f() == 1",)),
    "not utf-8": (b"def f():\n    return '\xff\xfe'\n", ("assert f()",)),
    "lone surrogate": ("def f():\n    return '\ud83d'\n", ("assert f()",)),
    "null byte": ("def f():\n    return 1\0\n", ("assert f() == 1",)),
    "gigantic": ("def f():\n    return 1\n" + "# padding\n" * 50_000, ("assert f() == 1",)),
    "unparsable tests": ("def f():\n    return 1\n", ("assert f( ==", "")),
    "no tests": ("def f():\n    return 1\n", None),
    "fence only": ("```python\n```", ("assert True",)),
}


def test_every_bad_input_gets_a_finite_reward_and_valid_spans(formula, tiny_tokenizer) -> None:
    batch = [
        formula.candidate(response, tests=tests, task_id=name) for name, (response, tests) in CASES.items()
    ]
    breakdowns = formula.score_batch(batch).breakdowns
    for candidate, breakdown in zip(batch, breakdowns, strict=True):
        assert math.isfinite(breakdown.total), candidate.task_id
        for part in breakdown.components:
            for finding in part.result.findings:
                assert 0 <= finding.start <= finding.end <= len(candidate.response), (
                    candidate.task_id,
                    finding,
                )
                assert finding.severity > 0
    by_name = {c.task_id: b for c, b in zip(batch, breakdowns, strict=True)}
    assert by_name["empty"].component("syntax").raw == -1.0
    assert by_name["gigantic"].component("syntax").raw == -1.0
    assert {f.rule for f in by_name["gigantic"].component("syntax").result.findings} == {"response-too-long"}
    assert by_name["unparsable tests"].component("tests").raw == 0.0
    assert by_name["no tests"].component("tests").raw == 0.0
    assert by_name["null byte"].component("syntax").raw == -1.0


def test_token_rewards_for_degenerate_responses(formula, tiny_tokenizer) -> None:
    for response in ("", "x", "```"):
        (breakdown,) = formula.score_batch([formula.candidate(response, tests=("assert True",))]).breakdowns
        rewards = breakdown.token_rewards(token_offsets(tiny_tokenizer, response))
        assert len(rewards) == len(token_offsets(tiny_tokenizer, response))
