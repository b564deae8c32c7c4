"""PPO's loss terms on one micro-batch: clipped policy loss, clipped value loss, entropy bonus."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from execrl.rl.algorithm import kl_per_token, masked_mean


def policy_loss(
    logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, clip_range: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate, ``mean(max(-A r, -A clip(r, 1-eps, 1+eps)))``, and the clipped fraction."""
    ratio = torch.exp(logp - old_logp)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    clip_fraction = masked_mean((clipped > unclipped).float(), mask)
    return loss, clip_fraction


def value_loss(
    values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor, clip_range: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``0.5 mean(max((V - R)^2, (clip(V, V_old +- eps) - R)^2))`` and the fraction where clipping won."""
    clipped_values = old_values + torch.clamp(values - old_values, -clip_range, clip_range)
    unclipped = (values - returns) ** 2
    clipped = (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(unclipped, clipped), mask)
    return loss, masked_mean((clipped > unclipped).float(), mask)


def entropy_bonus(token_entropy: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean entropy of the masked tokens (subtracted from the loss times ``entropy_coef``)."""
    return masked_mean(token_entropy, mask)


def approx_kl(logp: torch.Tensor, old_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """How far an update moved the policy from the rollout policy (k3 estimate), for monitoring."""
    return masked_mean(kl_per_token(old_logp, logp, "k3"), mask)


@dataclass(frozen=True)
class LossTerms:
    """The total loss of a micro-batch and its parts (detached parts, for logging)."""

    total: torch.Tensor
    policy: float
    value: float
    entropy: float
    clip_fraction: float
    value_clip_fraction: float
    approx_kl: float


def ppo_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    token_entropy: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_range: float,
    entropy_coef: float,
    values: torch.Tensor | None = None,
    old_values: torch.Tensor | None = None,
    returns: torch.Tensor | None = None,
    value_coef: float = 0.1,
    value_clip_range: float = 0.2,
    policy_coef: float = 1.0,
) -> LossTerms:
    """``policy_coef * (policy - entropy_coef * entropy) + value_coef * value`` (the value term only with
    a critic; ``policy_coef = 0`` while only the critic trains). The entropy enters the loss only with
    a nonzero ``entropy_coef`` (so that its backward is skipped otherwise); it is reported either way."""
    pg, clip_fraction = policy_loss(logp, old_logp, advantages, mask, clip_range)
    ent = entropy_bonus(token_entropy, mask)
    total = policy_coef * (pg - entropy_coef * ent) if entropy_coef else policy_coef * pg
    vf = vf_clip = torch.zeros(())
    if values is not None and old_values is not None and returns is not None:
        vf, vf_clip = value_loss(values, old_values, returns, mask, value_clip_range)
        total = total + value_coef * vf
    return LossTerms(
        total=total,
        policy=float(pg.detach()),
        value=float(vf.detach()),
        entropy=float(ent.detach()),
        clip_fraction=float(clip_fraction),
        value_clip_fraction=float(vf_clip),
        approx_kl=float(approx_kl(logp.detach(), old_logp, mask)),
    )
