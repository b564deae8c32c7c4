"""The PPO math against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from execrl.rl.algorithm import (
    KLController,
    gae,
    kl_per_token,
    masked_var,
    explained_variance,
    masked_correlation,
    reward_to_go,
    whiten,
)
from execrl.rl.losses import entropy_bonus, policy_loss, ppo_loss, value_loss


def t(*rows: list[float]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


def close(actual: torch.Tensor, expected: list) -> None:
    torch.testing.assert_close(actual.float(), torch.tensor(expected, dtype=torch.float32), atol=1e-4, rtol=1e-4)


def test_kl_estimators_match_their_definitions() -> None:
    logp, ref = t([-1.0, -2.0]), t([-1.5, -2.0])
    close(kl_per_token(logp, ref, "k1"), [[0.5, 0.0]])
    close(kl_per_token(logp, ref, "k3"), [[math.exp(-0.5) - 1 + 0.5, 0.0]])
    assert (kl_per_token(ref, logp, "k3") >= 0).all()
    with pytest.raises(ValueError, match="k2"):
        kl_per_token(logp, ref, "k2")  # type: ignore[arg-type]


def test_explained_variance_tells_a_useful_critic_from_a_useless_one() -> None:
    returns, mask = t([1.0, 2.0, 3.0, 50.0]), t([1.0, 1.0, 1.0, 0.0])
    assert explained_variance(returns, returns, mask) == pytest.approx(1.0)
    assert explained_variance(torch.full_like(returns, 2.0), returns, mask) == pytest.approx(0.0)
    assert explained_variance(-returns, returns, mask) < 0
    assert math.isnan(explained_variance(returns, torch.ones_like(returns), mask))


def test_masked_correlation_ignores_padding() -> None:
    mask = t([1.0, 1.0, 1.0, 0.0])
    assert masked_correlation(t([1.0, 2.0, 3.0, -9.0]), t([2.0, 4.0, 6.0, 9.0]), mask) == pytest.approx(1.0)
    assert masked_correlation(t([1.0, 2.0, 3.0, 0.0]), t([3.0, 2.0, 1.0, 0.0]), mask) == pytest.approx(-1.0)
    assert math.isnan(masked_correlation(t([1.0, 1.0, 1.0, 5.0]), t([1.0, 2.0, 3.0, 0.0]), mask))


def test_adaptive_kl_controller_moves_towards_the_target() -> None:
    controller = KLController(coef=0.1, target=1.0, horizon=100)
    controller.update(kl=2.0, n_responses=10)  # error clipped to +0.2
    assert controller.coef == pytest.approx(0.1 * 1.02)
    controller.update(kl=0.9, n_responses=10)  # error -0.1
    assert controller.coef == pytest.approx(0.1 * 1.02 * 0.99)
    fixed = KLController(coef=0.1)
    fixed.update(kl=50.0, n_responses=10)
    assert fixed.coef == 0.1


def test_reward_to_go_discounts_and_respects_the_mask() -> None:
    close(reward_to_go(t([1.0, 2.0, 3.0]), t([1.0, 1.0, 1.0]), 0.5), [[2.75, 3.5, 3.0]])
    close(reward_to_go(t([1.0, 2.0, 3.0]), t([1.0, 1.0, 0.0]), 1.0), [[3.0, 2.0, 0.0]])


def test_gae_matches_a_hand_computation() -> None:
    rewards, values = t([1.0, 0.0, 2.0]), t([0.5, 1.0, 1.5])
    advantages, returns = gae(rewards, values, t([1.0, 1.0, 1.0]), gamma=0.9, lam=0.8)
    # delta = [1 + .9*1 - .5, 0 + .9*1.5 - 1, 2 - 1.5] = [1.4, .35, .5]; A_t = delta_t + .72 A_{t+1}
    close(advantages, [[1.4 + 0.72 * 0.71, 0.71, 0.5]])
    close(returns, [[1.9112 + 0.5, 1.71, 2.0]])
    # A padded last token contributes neither reward nor bootstrap value.
    advantages, _ = gae(rewards, values, t([1.0, 1.0, 0.0]), gamma=0.9, lam=0.8)
    close(advantages, [[1.4 - 0.72, -1.0, 0.0]])


def test_gae_with_lambda_one_is_reward_to_go_minus_values() -> None:
    torch.manual_seed(0)
    rewards, values, mask = torch.randn(3, 5), torch.randn(3, 5), torch.ones(3, 5)
    mask[1, 3:] = 0
    advantages, _ = gae(rewards, values, mask, gamma=0.97, lam=1.0)
    expected = (reward_to_go(rewards, mask, 0.97) - values) * mask
    assert torch.allclose(advantages, expected, atol=1e-5)


def test_whiten_uses_only_masked_entries() -> None:
    out = whiten(t([1.0, 2.0, 3.0, 100.0]), t([1.0, 1.0, 1.0, 0.0]))
    close(out, [[-1.0, 0.0, 1.0, 0.0]])
    assert float(masked_var(t([4.0]), t([1.0]))) == 0.0


def test_policy_loss_clips_the_ratio() -> None:
    old = torch.zeros(1, 3)
    logp = torch.log(t([1.5, 0.5, 1.1]))
    advantages = t([1.0, -1.0, 2.0])
    loss, clip_fraction = policy_loss(logp, old, advantages, torch.ones(1, 3), clip_range=0.2)
    # token 1: max(-1.5, -1.2) = -1.2 (clipped); token 2: max(0.5, 0.8) = 0.8 (clipped); token 3: -2.2
    assert float(loss) == pytest.approx((-1.2 + 0.8 - 2.2) / 3)
    assert float(clip_fraction) == pytest.approx(2 / 3)


def test_value_loss_takes_the_worse_of_clipped_and_unclipped() -> None:
    loss, fraction = value_loss(t([2.0]), t([1.0]), t([3.0]), t([1.0]), clip_range=0.2)
    assert float(loss) == pytest.approx(0.5 * (1.2 - 3.0) ** 2)
    assert float(fraction) == 1.0
    loss, fraction = value_loss(t([1.1]), t([1.0]), t([3.0]), t([1.0]), clip_range=0.2)
    assert float(loss) == pytest.approx(0.5 * 1.9**2)
    assert float(fraction) == 0.0


def test_entropy_bonus_of_a_uniform_distribution_is_log_vocab() -> None:
    from execrl.models import entropy

    token_entropy = entropy(torch.zeros(1, 2, 4))
    assert float(entropy_bonus(token_entropy, torch.ones(1, 2))) == pytest.approx(math.log(4))


def test_ppo_loss_combines_the_terms_with_their_coefficients() -> None:
    mask = torch.ones(1, 2)
    logp, old = t([-1.0, -2.0]), t([-1.0, -2.0])
    advantages, token_entropy = t([1.0, 3.0]), t([0.5, 1.5])
    values, old_values, returns = t([1.0, 1.0]), t([1.0, 1.0]), t([2.0, 0.0])
    terms = ppo_loss(
        logp, old, advantages, token_entropy, mask, clip_range=0.2, entropy_coef=0.1,
        values=values, old_values=old_values, returns=returns, value_coef=0.5,
    )
    assert terms.policy == pytest.approx(-2.0)
    assert terms.value == pytest.approx(0.5)
    assert terms.entropy == pytest.approx(1.0)
    assert float(terms.total) == pytest.approx(-2.0 + 0.5 * 0.5 - 0.1 * 1.0)
    without_critic = ppo_loss(logp, old, advantages, token_entropy, mask, clip_range=0.2, entropy_coef=0.0)
    assert float(without_critic.total) == pytest.approx(-2.0)
