"""PPO's optimisation phase: several epochs of shuffled minibatches over one rollout.

Each minibatch's loss is the mean over its tokens; micro-batches (gradient accumulation) are weighted
by their share of those tokens, so the gradient does not depend on how a minibatch is split. A
minibatch whose loss or gradient is not finite is skipped (with a warning) and the run goes on.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import torch

from execrl.models import ActorCritic
from execrl.rl.config import AlgorithmConfig
from execrl.rl.distributed import SINGLE, Ranks
from execrl.rl.losses import ppo_loss
from execrl.rl.rollout import Autocast, Rollout, micro_batches, score_rows


@dataclass
class UpdateStats:
    policy_loss: list[float] = field(default_factory=list)
    value_loss: list[float] = field(default_factory=list)
    entropy: list[float] = field(default_factory=list)
    clip_fraction: list[float] = field(default_factory=list)
    value_clip_fraction: list[float] = field(default_factory=list)
    approx_kl: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    skipped: int = 0

    def summary(self) -> dict[str, float]:
        def mean(values: list[float]) -> float:
            return sum(values) / len(values) if values else float("nan")

        return {
            "loss/policy": mean(self.policy_loss),
            "loss/value": mean(self.value_loss),
            "entropy": mean(self.entropy),
            "clip_fraction": mean(self.clip_fraction),
            "value_clip_fraction": mean(self.value_clip_fraction),
            "approx_kl": mean(self.approx_kl),
            "grad_norm": mean(self.grad_norm),
            "skipped_minibatches": float(self.skipped),
        }


def ppo_update(
    model: ActorCritic,
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    advantages: torch.Tensor,
    returns: torch.Tensor | None,
    config: AlgorithmConfig,
    autocast: Autocast,
    ranks: Ranks = SINGLE,
    train_policy: bool = True,
) -> UpdateStats:
    """PPO's epochs over ``rollout``; ``train_policy=False`` (critic warm-up) trains only the value loss."""
    stats = UpdateStats()
    params = [p for p in model.parameters() if p.requires_grad]
    train_values = returns is not None and rollout.values is not None
    model.train()
    lengths = rollout.attention_mask.sum(1)
    for _ in range(config.epochs):
        order = torch.randperm(rollout.size).to(rollout.input_ids.device)
        for start in range(0, rollout.size, config.minibatch_size):
            rows = order[start : start + config.minibatch_size]
            total_tokens = rollout.mask[rows].sum().clamp(min=1)
            finite = True
            parts = []
            # Similar lengths share a forward pass; the gradient does not depend on the split.
            for micro in micro_batches(lengths, rows, config.micro_batch_size):
                mask = rollout.mask[micro]
                with autocast():
                    scored = score_rows(
                        model, rollout.input_ids, rollout.attention_mask, rollout.prompt_len, rollout.response_ids,
                        rollout.mask, micro, rollout.temperature,
                    )
                assert scored.entropy is not None  # asked for: it is reported, and trained with entropy_coef
                terms = ppo_loss(
                    scored.logp, rollout.logp[micro], advantages[micro], scored.entropy, mask,
                    clip_range=config.clip_range, entropy_coef=config.entropy_coef,
                    values=scored.values if train_values else None,
                    old_values=rollout.values[micro] if train_values else None,
                    returns=returns[micro] if train_values else None,
                    value_coef=config.value_coef, value_clip_range=config.value_clip_range,
                    policy_coef=1.0 if train_policy else 0.0,
                )
                if not torch.isfinite(terms.total):
                    finite = False
                    break
                (terms.total * mask.sum() / total_tokens).backward()
                parts.append(terms)
            # Every rank skips a minibatch that is not finite on any, so all take the same optimiser steps.
            finite = ranks.all_true(finite)
            if finite:
                ranks.average_gradients(params)
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)) if finite else math.nan
            if not finite or not math.isfinite(grad_norm):
                stats.skipped += 1
                optimizer.zero_grad(set_to_none=True)
                warnings.warn("a minibatch had a non-finite loss or gradient; skipped its update", stacklevel=2)
                continue
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            stats.grad_norm.append(grad_norm)
            for terms in parts:
                stats.policy_loss.append(terms.policy)
                stats.value_loss.append(terms.value)
                stats.entropy.append(terms.entropy)
                stats.clip_fraction.append(terms.clip_fraction)
                stats.value_clip_fraction.append(terms.value_clip_fraction)
                stats.approx_kl.append(terms.approx_kl)
    return stats
