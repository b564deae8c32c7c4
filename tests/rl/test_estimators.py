"""Advantage estimators against hand computations, the cases where group baselines used to make up
signal (equal judge scores, an ended response), and the registry."""

from __future__ import annotations

import pytest
import torch

from execrl.rl.estimators import ESTIMATORS, AdvantageInput, Advantages, estimate, register_estimator


def close(actual: torch.Tensor, expected: list) -> None:
    torch.testing.assert_close(actual.float(), torch.tensor(expected, dtype=torch.float32), atol=1e-4, rtol=1e-4)


def batch(
    rewards: list[list[float]], mask: list[list[float]], groups: list[int], kl: list[list[float]] | None = None, **kw
) -> AdvantageInput:
    judge = torch.tensor(rewards)
    penalty = torch.zeros_like(judge) if kl is None else torch.tensor(kl)
    return AdvantageInput(judge, penalty, torch.tensor(mask, dtype=torch.float32), torch.tensor(groups), **kw)


def test_the_optimised_reward_is_the_judges_minus_the_kl_penalty_on_response_tokens() -> None:
    inp = batch([[1.0, 0.0, 5.0]], [[1, 1, 0]], [0], kl=[[0.05, 0.1, 0.1]])
    close(inp.rewards, [[0.95, -0.1, 0.0]])


def test_rloo_compares_judge_totals_leave_one_out_with_terminal_credit() -> None:
    # terminal credit: each response's judge reward sits on its last token
    inp = batch(
        [[0.0, 1.0], [0.0, 2.0], [0.0, 3.0], [1.0, 0.0], [0.0, 2.0]],
        [[1, 1], [1, 1], [1, 1], [1, 0], [1, 1]],
        [0, 0, 0, 1, 1],
    )
    out = estimate("rloo", inp).advantages
    close(out[:3], [[-1.5, -1.5], [0.0, 0.0], [1.5, 1.5]])  # R = 1, 2, 3: minus the mean of the other two
    close(out[3:], [[-1.0, 0.0], [1.0, 1.0]])  # R = 1 (ended after one token) and 2


def test_grpo_standardises_judge_totals_within_the_group() -> None:
    inp = batch([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]], [[1, 1]] * 3, [7, 7, 7])
    close(estimate("grpo", inp).advantages, [[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]])


@pytest.mark.parametrize("name", ["rloo", "grpo"])
def test_equal_judge_scores_give_no_advantage_beyond_the_kl_penalty(name: str) -> None:
    # Two responses the judges score alike, with different KL: the old per-position GRPO gave them
    # +-0.707 from KL noise alone. Now the group comparison is 0; only each one's own KL-to-go is left.
    kl = [[0.01, 0.02], [0.2, 0.1]]
    out = estimate(name, batch([[0.0, 1.0], [0.0, 1.0]], [[1, 1], [1, 1]], [0, 0], kl=kl)).advantages
    close(out, [[-0.03, -0.02], [-0.3, -0.1]])


@pytest.mark.parametrize("name", ["rloo", "grpo"])
def test_a_longer_response_gets_no_positive_tail_against_an_ended_one(name: str) -> None:
    # Equal scores, uniform credit, lengths 2 and 4: a per-position baseline that counts the ended
    # response as 0 gave the longer one +0.5 on its last two tokens. Now each response only carries
    # its own dense shape (minus the reward it already earned), never a comparison with an ended one.
    rewards = [[0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]]
    out = estimate(name, batch(rewards, [[1, 1, 0, 0], [1, 1, 1, 1]], [0, 0])).advantages
    close(out, [[0.0, -0.5, 0.0, 0.0], [0.0, -0.25, -0.5, -0.75]])
    assert (out <= 0).all()


def test_dense_credit_keeps_its_place_in_the_sequence() -> None:
    # Response 0 loses 1.0 at its second token (a located penalty) and earns 1.5 at its last: the
    # tokens up to the penalised one carry less advantage than the one after it.
    rewards = [[0.0, -1.0, 1.5], [0.0, 0.0, -0.5]]
    out = estimate("rloo", batch(rewards, [[1, 1, 1]] * 2, [0, 0])).advantages
    # a = 0.5 - (-0.5) = 1 and -1; A_t = a + G_t - R with G = [0.5, 0.5, 1.5] and [-0.5, -0.5, -0.5]
    close(out, [[1.0, 1.0, 2.0], [-1.0, -1.0, -1.0]])


def test_position_baseline_compares_only_with_members_still_running() -> None:
    rewards = [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.3, 0.3, 0.3]]
    mask = [[1, 1, 0], [1, 1, 1], [1, 1, 1]]
    out = estimate("rloo", batch(rewards, mask, [0, 0, 0], baseline="position")).advantages
    # G = [1, .5, 0], [1, 1, 1], [.9, .6, .3]; at t = 2 response 0 has ended and is left out
    close(out, [[1 - 0.95, 0.5 - 0.8, 0.0], [1 - 0.95, 1 - 0.55, 1 - 0.3], [0.9 - 1.0, 0.6 - 0.75, 0.3 - 1.0]])


def test_position_baseline_falls_back_to_the_sequence_comparison_where_no_other_is_running() -> None:
    rewards = [[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]
    out = estimate("rloo", batch(rewards, [[1, 0, 0], [1, 1, 1]], [0, 0], baseline="position")).advantages
    # t = 0: 1 - 2 and 2 - 1; t >= 1 response 1 runs alone: a = 2 - 1 = 1 plus its shape G_t - R = 0
    close(out, [[-1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


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
    with_values = AdvantageInput(inp.judge_rewards, inp.kl_penalty, inp.mask, inp.groups, values, gamma=1.0, lam=1.0)
    out = estimate("gae", with_values, False)
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


def test_the_worked_example_of_docs_training_md() -> None:
    rewards = [[0.75, 0.75, 0.0, 0.0], [0.375] * 4]
    mask = [[1, 1, 0, 0], [1, 1, 1, 1]]
    close(estimate("rloo", batch(rewards, mask, [0, 0])).advantages, [[0.0, -0.75, 0.0, 0.0], [0.0, -0.375, -0.75, -1.125]])
    failed = estimate("rloo", batch([[0.75, 0.75, 0.0, 0.0], [0.0] * 4], mask, [0, 0])).advantages
    close(failed[0], [1.5, 0.75, 0.0, 0.0])
