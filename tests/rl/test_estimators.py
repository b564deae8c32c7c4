"""Advantage estimators against hand computations, and the registry."""

from __future__ import annotations

import pytest
import torch

from execrl.rl.estimators import ESTIMATORS, AdvantageInput, Advantages, estimate, register_estimator


def close(actual: torch.Tensor, expected: list) -> None:
    torch.testing.assert_close(actual.float(), torch.tensor(expected, dtype=torch.float32), atol=1e-4, rtol=1e-4)


def batch(rewards: list[list[float]], mask: list[list[float]], groups: list[int], **kw) -> AdvantageInput:
    return AdvantageInput(torch.tensor(rewards), torch.tensor(mask), torch.tensor(groups), **kw)


def test_rloo_leaves_one_out_position_by_position() -> None:
    inp = batch(
        [[0.0, 1.0], [0.0, 2.0], [0.0, 3.0], [1.0, 0.0], [1.0, 1.0]],
        [[1, 1], [1, 1], [1, 1], [1, 0], [1, 1]],
        [0, 0, 0, 1, 1],
    )
    out = estimate("rloo", inp).advantages
    # group 0: G = 1, 2, 3 at both positions; baseline = mean of the other two
    close(out[:3], [[-1.5, -1.5], [0.0, 0.0], [1.5, 1.5]])
    # group 1: G = [1, 0] (ended) and [2, 1]
    close(out[3:], [[-1.0, 0.0], [1.0, 1.0]])


def test_grpo_normalises_within_the_group() -> None:
    inp = batch([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]], [[1, 1]] * 3, [7, 7, 7])
    out = estimate("grpo", inp).advantages
    close(out, [[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]])


def test_a_response_alone_in_its_group() -> None:
    inp = batch([[0.0, 2.0]], [[1, 1]], [0])
    assert estimate("rloo", inp).advantages.tolist() == [[2.0, 2.0]]
    assert estimate("grpo", inp).advantages.tolist() == [[0.0, 0.0]]


def test_reinforce_pp_whitens_the_reward_to_go_over_the_batch() -> None:
    inp = batch([[1.0, 0.0], [0.0, 3.0]], [[1, 0], [1, 1]], [0, 1])
    out = estimate("reinforce_pp", inp).advantages
    returns = torch.tensor([1.0, 3.0, 3.0])  # the three real tokens' reward-to-go
    expected = (returns - returns.mean()) / returns.std()
    assert out[0, 0] == pytest.approx(float(expected[0]), abs=1e-4)
    assert out[1].tolist() == pytest.approx(expected[1:].tolist(), abs=1e-4)
    assert out[0, 1] == 0.0


def test_gae_needs_values_and_returns_value_targets() -> None:
    inp = batch([[0.0, 1.0]], [[1, 1]], [0])
    with pytest.raises(ValueError, match="value head"):
        estimate("gae", inp)
    values = torch.tensor([[0.2, 0.4]])
    out = estimate("gae", AdvantageInput(inp.rewards, inp.mask, inp.groups, values, gamma=1.0, lam=1.0), False)
    close(out.advantages, [[0.8, 0.6]])
    assert out.returns is not None
    close(out.returns, [[1.0, 1.0]])


def test_a_new_estimator_is_registered_without_touching_the_others() -> None:
    name = "test_constant"

    @register_estimator(name)
    def constant(inp: AdvantageInput) -> Advantages:
        return Advantages(torch.full_like(inp.rewards, 2.0) * inp.mask)

    try:
        out = estimate(name, batch([[5.0, 1.0]], [[1, 0]], [0]))
        assert out.advantages.tolist() == [[2.0, 0.0]]
        with pytest.raises(ValueError, match="already registered"):
            register_estimator(name)(constant)
    finally:
        del ESTIMATORS[name]
    with pytest.raises(ValueError, match="known: gae"):
        estimate(name, batch([[0.0]], [[1]], [0]))
