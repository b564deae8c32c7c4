"""BatchScorer: coroutines ask for one response's reward each; the judges see batches; each gets its own."""

from __future__ import annotations

import asyncio

import pytest

from execrl.errors import ExecrlError
from execrl.integrations.judge_batcher import BatchScorer
from execrl.rewards import RewardFormula, parse_config
from execrl.rl.rewarding import judge_responses
from execrl.tasks.types import Task

FORMULA = {
    "judges": {
        "syntax": {"weight": 1.0, "credit": "localized", "credit_options": {"fraction": 1.0}},
        "tests": {"weight": 1.0, "credit": "uniform", "settings": {"timeout_s": 2.0, "scoring": "partial"}},
    }
}
TASK = Task(
    task_id="add/1",
    prompt="Write add(a, b).",
    entry_point="add",
    canonical_solution="def add(a, b):\n    return a + b\n",
    test_asserts=("assert add(1, 2) == 3", "assert add(0, 0) == 0"),
)
RESPONSES = [
    "```python\ndef add(a, b):\n    return a + b\n```",
    "```python\ndef add(a, b):\n    return a +\n```",
    "```python\ndef add(a, b):\n    return a - b\n```",
    "```python\ndef add(a, b):\n    while True:\n        pass\n```",  # times out: only its own score suffers
    "no code at all",
]


@pytest.fixture(scope="module")
def formula() -> RewardFormula:
    return RewardFormula(parse_config(FORMULA, "test"))


@pytest.fixture(scope="module")
def response_ids(tiny_tokenizer) -> list[list[int]]:
    return [
        tiny_tokenizer(r, add_special_tokens=False)["input_ids"] + [tiny_tokenizer.eos_token_id]
        for r in RESPONSES
    ]


async def score_all(scorer: BatchScorer, ids: list[list[int]]):
    return await asyncio.gather(*(scorer.score(TASK, row) for row in ids))


def test_concurrent_requests_are_judged_in_one_batch_and_each_gets_its_own_reward(
    formula, tiny_tokenizer, response_ids
):
    scorer = BatchScorer(formula, tiny_tokenizer, max_batch=64, max_wait_s=0.5)
    results = asyncio.run(score_all(scorer, response_ids))
    assert scorer.batch_sizes == [len(RESPONSES)]
    expected = judge_responses(formula, tiny_tokenizer, [TASK] * len(RESPONSES), response_ids)
    assert [r.token_rewards for r in results] == expected.token_rewards
    assert [r.total for r in results] == pytest.approx(expected.totals)
    assert [r.total for r in results][:3] == pytest.approx([1.5, -1.0, 0.5])
    for i, result in enumerate(results):
        assert result.judge_scores == {name: values[i] for name, values in expected.judge_scores.items()}
        assert len(result.token_rewards) == len(response_ids[i])


def test_a_full_batch_goes_at_once_and_the_rest_waits_for_the_next(formula, tiny_tokenizer, response_ids):
    scorer = BatchScorer(formula, tiny_tokenizer, max_batch=2, max_wait_s=0.5)
    results = asyncio.run(score_all(scorer, response_ids))
    assert scorer.batch_sizes == [2, 2, 1]
    assert [r.total for r in results][:3] == pytest.approx([1.5, -1.0, 0.5])


def test_requests_that_come_one_after_another_are_judged_one_by_one(formula, tiny_tokenizer, response_ids):
    scorer = BatchScorer(formula, tiny_tokenizer, max_batch=64, max_wait_s=0.0)

    async def one_by_one():
        return [await scorer.score(TASK, row) for row in response_ids[:2]]

    assert [r.total for r in asyncio.run(one_by_one())] == pytest.approx([1.5, -1.0])
    assert scorer.batch_sizes == [1, 1]


class BrokenTokenizer:
    def decode(self, *args, **kwargs):
        raise RuntimeError("tokenizer broke")

    def __getattr__(self, name):
        raise RuntimeError("tokenizer broke")


def test_a_failure_of_the_batch_itself_reaches_every_request_of_it(formula, response_ids):
    scorer = BatchScorer(formula, BrokenTokenizer(), max_batch=64, max_wait_s=0.5)

    async def gather_errors():
        return await asyncio.gather(
            *(scorer.score(TASK, row) for row in response_ids[:3]), return_exceptions=True
        )

    errors = asyncio.run(gather_errors())
    assert all(isinstance(e, RuntimeError) and "tokenizer broke" in str(e) for e in errors)


@pytest.mark.parametrize("max_batch, max_wait_s", [(0, 0.05), (4, -1.0)])
def test_bad_settings_are_refused(formula, tiny_tokenizer, max_batch, max_wait_s):
    with pytest.raises(ExecrlError, match="max_batch"):
        BatchScorer(formula, tiny_tokenizer, max_batch=max_batch, max_wait_s=max_wait_s)
