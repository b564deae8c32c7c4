"""Advantage estimators, chosen by name in the config; a new one is added with ``@register_estimator``.

Every estimator keeps token positions: it maps per-token rewards ``[B, T]`` to per-token advantages.
Rewards arrive in two parts, the judges' credit-mapped rewards ``x_t`` and the KL penalty
``c KL_t``; the trainer optimises ``r_t = x_t - c KL_t``. ``G_t = sum_{s>=t} gamma^(s-t) r_t`` is the
reward-to-go; ``R = G_0`` a response's total.

The critic-free estimators compare each response with the other responses to the same prompt (its
*group*). By default (``baseline: sequence``, as verl's RLOO and GRPO) the comparison is one number
per response, made on the judges' totals ``R^x``:

    A_{i,t} = a_i + (G^x_{i,t} - R^x_i) - c G^KL_{i,t}

with ``a_i`` the group-relative advantage of ``R^x_i`` (RLOO: minus the mean of the others; GRPO:
standardised in the group). ``G^x_{i,t} - R^x_i = -(judge reward before t)`` is the response's own
dense shape, zero for terminal credit (then ``A = a_i`` on every token, exactly verl's estimators),
and ``- c G^KL`` is the KL penalty still to come. Two responses with the same judge score get
``a = 0``: KL noise cannot be standardised into a +-0.7 signal, and a longer response is not
compared, position by position, with one that has ended. ``baseline: position`` compares
reward-to-go position by position among the group's members still running at that position (an
ended response does not count as 0); where no other member is running, the sequence comparison is
used. docs/training.md works an example through both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from execrl.rl.algorithm import gae, reward_to_go, whiten

Baseline = Literal["sequence", "position"]


@dataclass(frozen=True)
class AdvantageInput:
    judge_rewards: torch.Tensor  # [B, T] the judges' credit-mapped per-token rewards
    kl_penalty: torch.Tensor  # [B, T] kl_coef * KL_t, subtracted from the judges' rewards
    mask: torch.Tensor  # [B, T] 1 on response tokens
    groups: torch.Tensor  # [B] which prompt each response answers
    values: torch.Tensor | None = None  # [B, T] the critic's values at rollout time
    gamma: float = 1.0
    lam: float = 1.0
    baseline: Baseline = "sequence"

    @property
    def rewards(self) -> torch.Tensor:
        """The per-token rewards PPO optimises: ``x_t - c KL_t`` on response tokens."""
        return (self.judge_rewards - self.kl_penalty) * self.mask


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
    uses_groups: bool  # compares responses to the same prompt: needs samples_per_prompt >= 2


ESTIMATORS: dict[str, Estimator] = {}


def register_estimator(
    name: str, needs_critic: bool = False, whiten: bool = False, uses_groups: bool = False
) -> Callable[[EstimatorFn], EstimatorFn]:
    def decorate(function: EstimatorFn) -> EstimatorFn:
        if name in ESTIMATORS:
            raise ValueError(f"advantage estimator {name!r} is already registered")
        ESTIMATORS[name] = Estimator(name, function, needs_critic, whiten, uses_groups)
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


SequenceAdvantage = Callable[[torch.Tensor], torch.Tensor]  # a group's judge totals [k] -> a_i [k]


def _rloo_sequence(totals: torch.Tensor) -> torch.Tensor:
    k = totals.shape[0]
    if k < 2:
        return totals.clone()  # alone in its group: no baseline
    return totals - (totals.sum() - totals) / (k - 1)


def _grpo_sequence(totals: torch.Tensor) -> torch.Tensor:
    if totals.shape[0] < 2:
        return torch.zeros_like(totals)
    return (totals - totals.mean()) / (totals.std() + 1e-6)


def _group_relative(batch: AdvantageInput, sequence_advantage: SequenceAdvantage) -> torch.Tensor:
    mask = batch.mask
    judge_to_go = reward_to_go(batch.judge_rewards, mask, batch.gamma)
    kl_to_go = reward_to_go(batch.kl_penalty, mask, batch.gamma)
    totals = judge_to_go[:, 0]
    a = torch.zeros_like(totals)
    for members in _group_members(batch.groups):
        a[members] = sequence_advantage(totals[members])
    sequence = (a.unsqueeze(1) + judge_to_go - totals.unsqueeze(1)) * mask - kl_to_go
    if batch.baseline == "sequence":
        return sequence * mask
    return _position_relative(batch, judge_to_go, kl_to_go, sequence, sequence_advantage)


def _position_relative(
    batch: AdvantageInput,
    judge_to_go: torch.Tensor,
    kl_to_go: torch.Tensor,
    fallback: torch.Tensor,
    sequence_advantage: SequenceAdvantage,
) -> torch.Tensor:
    """Per position, among the members running there; the sequence comparison where none other is."""
    mask = batch.mask
    out = fallback.clone()
    running = mask > 0
    for members in _group_members(batch.groups):
        live = running[members]  # [k, T]
        returns = judge_to_go[members]
        for row, i in enumerate(members.tolist()):
            others = live.clone()
            others[row] = False
            comparable = others.any(0) & live[row]
            if not bool(comparable.any()):
                continue
            for t in torch.nonzero(comparable).flatten().tolist():
                column = torch.cat([returns[row, t : t + 1], returns[others[:, t], t]])
                out[i, t] = sequence_advantage(column)[0] - kl_to_go[i, t]
    return out * mask


@register_estimator("gae", needs_critic=True, whiten=True)
def gae_estimator(batch: AdvantageInput) -> Advantages:
    """PPO's classic estimator: GAE(gamma, lambda) on the critic's values; returns train the critic."""
    if batch.values is None:
        raise ValueError("gae needs the critic's values")
    advantages, returns = gae(batch.rewards, batch.values, batch.mask, batch.gamma, batch.lam)
    return Advantages(advantages, returns)


@register_estimator("rloo", uses_groups=True)
def rloo(batch: AdvantageInput) -> Advantages:
    """REINFORCE leave-one-out (Ahmadian et al., 2024): ``a_i = R^x_i - mean_{j != i} R^x_j``."""
    return Advantages(_group_relative(batch, _rloo_sequence))


@register_estimator("grpo", uses_groups=True)
def grpo(batch: AdvantageInput) -> Advantages:
    """Group-relative normalisation (Shao et al., 2024): ``a_i = (R^x_i - mean_j R^x_j) / (std_j R^x_j + 1e-6)``
    (std unbiased; ``a = 0`` for a response alone in its group)."""
    return Advantages(_group_relative(batch, _grpo_sequence))


@register_estimator("reinforce_pp")
def reinforce_pp(batch: AdvantageInput) -> Advantages:
    """REINFORCE++ (Hu, 2025): the reward-to-go ``G_t`` (KL included), whitened over every token of the batch."""
    return Advantages(whiten(reward_to_go(batch.rewards, batch.mask, batch.gamma), batch.mask))
