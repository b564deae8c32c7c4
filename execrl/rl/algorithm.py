"""The math of PPO with dense token-level rewards, on ``[batch, tokens]`` tensors with a 0/1 ``mask``.

Everything here is a pure function of tensors (or a tiny controller), so each piece is checked in
isolation against a hand computation in tests/rl. Notation: ``logp`` is the policy's log-probability
of the sampled token, ``ref_logp`` the reference policy's, ``mask`` marks real response tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

KLEstimator = Literal["k1", "k3"]


# --- masked statistics ------------------------------------------------------------------------------


def masked_sum(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum()


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return masked_sum(values, mask) / mask.sum().clamp(min=1)


def masked_var(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unbiased variance over the masked entries (0 with fewer than two)."""
    count = mask.sum()
    mean = masked_mean(values, mask)
    squares = masked_sum((values - mean) ** 2, mask)
    return squares / (count - 1) if count > 1 else squares * 0


def whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, eps: float = 1e-8) -> torch.Tensor:
    """``(values - mean) / std`` over the masked entries; masked-out entries become 0."""
    mean = masked_mean(values, mask)
    scaled = (values - mean) * torch.rsqrt(masked_var(values, mask) + eps)
    if not shift_mean:
        scaled = scaled + mean
    return scaled * mask


# --- KL to the reference -----------------------------------------------------------------------------


def kl_per_token(logp: torch.Tensor, ref_logp: torch.Tensor, estimator: KLEstimator = "k1") -> torch.Tensor:
    """Per-token estimate of KL(policy || reference) from the sampled tokens (Schulman's k1 / k3).

    k1 = log p - log q (unbiased, may be negative); k3 = q/p - 1 - log(q/p) (unbiased, always >= 0).
    """
    log_ratio = logp - ref_logp
    if estimator == "k1":
        return log_ratio
    if estimator == "k3":
        return torch.expm1(-log_ratio) + log_ratio
    raise ValueError(f"unknown KL estimator {estimator!r}; use k1 or k3")


@dataclass
class KLController:
    """The KL penalty coefficient: fixed, or adapted towards a target KL (Ziegler et al., 2019).

    Adaptive: ``coef *= 1 + clip(kl / target - 1, -0.2, 0.2) * n_responses / horizon`` after each step.
    """

    coef: float
    target: float | None = None
    horizon: int = 10_000

    def update(self, kl: float, n_responses: int) -> None:
        if self.target is None or not math.isfinite(kl):
            return
        error = min(max(kl / self.target - 1.0, -0.2), 0.2)
        self.coef *= 1.0 + error * n_responses / self.horizon


# --- returns and advantages ------------------------------------------------------------------------


def reward_to_go(rewards: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """``G_t = sum_{s >= t} gamma^(s-t) r_s`` over each row's masked tokens (0 on padding)."""
    rewards = rewards * mask
    returns = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(rewards.shape[1])):
        running = rewards[:, t] + gamma * running
        returns[:, t] = running
    return returns * mask


def gae(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0, lam: float = 0.95
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al., 2016) over each row's masked tokens.

    ``delta_t = r_t + gamma V_{t+1} - V_t`` with ``V = 0`` after the last token, and
    ``A_t = delta_t + gamma lam A_{t+1}``. Returns ``(advantages, returns = advantages + values)``.
    """
    rewards, values = rewards * mask, values * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(rewards.shape[1])):
        next_value = values[:, t + 1] if t + 1 < rewards.shape[1] else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running
    advantages = advantages * mask
    return advantages, (advantages + values) * mask


# --- diagnostics -------------------------------------------------------------------------------------


def explained_variance(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> float:
    """``1 - Var(returns - values) / Var(returns)`` over the masked tokens (CleanRL's critic check).

    1: the critic predicts the returns; 0: no better than their mean; negative: worse than that.
    NaN when the returns do not vary.
    """
    spread = float(masked_var(returns, mask))
    if spread <= 0 or not math.isfinite(spread):
        return float("nan")
    return 1.0 - float(masked_var(returns - values, mask)) / spread


def masked_correlation(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> float:
    """Pearson correlation of ``x`` and ``y`` over the masked entries (NaN if either is constant)."""
    dx, dy = x - masked_mean(x, mask), y - masked_mean(y, mask)
    denominator = float(torch.sqrt(masked_sum(dx * dx, mask) * masked_sum(dy * dy, mask)))
    if denominator <= 0 or not math.isfinite(denominator):
        return float("nan")
    return float(masked_sum(dx * dy, mask)) / denominator
