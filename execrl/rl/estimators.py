"""Advantage estimators, chosen by name in the config; a new one is added with ``@register_estimator``.

Every estimator keeps token positions: it maps the per-token shaped rewards ``[B, T]`` (judges'
credit-mapped rewards minus the KL penalty) to per-token advantages. The critic-free ones work on
the reward-to-go ``G_t`` and compare each response with the other responses to the same prompt
(its *group*), position by position; a response that has ended counts as ``G_t = 0`` there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from execrl.rl.algorithm import gae, reward_to_go, whiten


@dataclass(frozen=True)
class AdvantageInput:
    rewards: torch.Tensor  # [B, T] shaped per-token rewards
    mask: torch.Tensor  # [B, T] 1 on response tokens
    groups: torch.Tensor  # [B] which prompt each response answers
    values: torch.Tensor | None = None  # [B, T] the critic's values at rollout time
    gamma: float = 1.0
    lam: float = 0.95


@dataclass(frozen=True)
class Advantages:
    advantages: torch.Tensor  # [B, T]
    returns: torch.Tensor | None = None  # value targets, for estimators that train a critic


EstimatorFn = Callable[[AdvantageInput], Advantages]


@dataclass(frozen=True)
class Estimator:
    name: str
    compute: EstimatorFn
    needs_critic: bool
    whiten: bool  # whiten the advantages over the batch afterwards (the config may override)


ESTIMATORS: dict[str, Estimator] = {}


def register_estimator(name: str, needs_critic: bool = False, whiten: bool = False) -> Callable[[EstimatorFn], EstimatorFn]:
    def decorate(function: EstimatorFn) -> EstimatorFn:
        if name in ESTIMATORS:
            raise ValueError(f"advantage estimator {name!r} is already registered")
        ESTIMATORS[name] = Estimator(name, function, needs_critic, whiten)
        return function

    return decorate


def get_estimator(name: str) -> Estimator:
    try:
        return ESTIMATORS[name]
    except KeyError:
        raise ValueError(f"unknown advantage estimator {name!r}; known: {', '.join(sorted(ESTIMATORS))}") from None


def estimate(name: str, batch: AdvantageInput, whiten_advantages: bool | None = None) -> Advantages:
    """The named estimator's advantages, whitened as the estimator (or ``whiten_advantages``) says."""
    estimator = get_estimator(name)
    if estimator.needs_critic and batch.values is None:
        raise ValueError(f"estimator {name!r} needs a value head (model.value: shared or separate)")
    result = estimator.compute(batch)
    if estimator.whiten if whiten_advantages is None else whiten_advantages:
        result = Advantages(whiten(result.advantages, batch.mask), result.returns)
    return result


def _group_members(groups: torch.Tensor) -> list[torch.Tensor]:
    return [torch.nonzero(groups == g).squeeze(1) for g in torch.unique(groups)]


@register_estimator("gae", needs_critic=True, whiten=True)
def gae_estimator(batch: AdvantageInput) -> Advantages:
    """PPO's classic estimator: GAE(gamma, lambda) on the critic's values; returns train the critic."""
    if batch.values is None:
        raise ValueError("gae needs the critic's values")
    advantages, returns = gae(batch.rewards, batch.values, batch.mask, batch.gamma, batch.lam)
    return Advantages(advantages, returns)


@register_estimator("rloo")
def rloo(batch: AdvantageInput) -> Advantages:
    """REINFORCE leave-one-out (Ahmadian et al., 2024) per position.

    ``A_{i,t} = G_{i,t} - mean_{j != i} G_{j,t}`` over the other members of i's group
    (``A = G`` for a response alone in its group).
    """
    returns = reward_to_go(batch.rewards, batch.mask, batch.gamma)
    advantages = returns.clone()
    for members in _group_members(batch.groups):
        k = len(members)
        if k < 2:
            continue
        group = returns[members]
        advantages[members] = group - (group.sum(0, keepdim=True) - group) / (k - 1)
    return Advantages(advantages * batch.mask)


@register_estimator("grpo")
def grpo(batch: AdvantageInput) -> Advantages:
    """Group-relative normalisation (Shao et al., 2024) per position.

    ``A_{i,t} = (G_{i,t} - mean_j G_{j,t}) / (std_j G_{j,t} + 1e-6)`` over i's group (std unbiased;
    ``A = 0`` for a response alone in its group).
    """
    returns = reward_to_go(batch.rewards, batch.mask, batch.gamma)
    advantages = torch.zeros_like(returns)
    for members in _group_members(batch.groups):
        if len(members) < 2:
            continue
        group = returns[members]
        advantages[members] = (group - group.mean(0, keepdim=True)) / (group.std(0, keepdim=True) + 1e-6)
    return Advantages(advantages * batch.mask)


@register_estimator("reinforce_pp")
def reinforce_pp(batch: AdvantageInput) -> Advantages:
    """REINFORCE++ (Hu, 2025): the reward-to-go, whitened over every token of the batch."""
    returns = reward_to_go(batch.rewards, batch.mask, batch.gamma)
    return Advantages(whiten(returns, batch.mask))
