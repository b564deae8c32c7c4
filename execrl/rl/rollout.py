"""One rollout: sample responses, then score every response token under the policy, the reference and the critic.

Log-probabilities are recomputed in a forward pass with dropout off rather than taken from
``generate``: the update's forward pass must see exactly the same computation for PPO's ratio.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from execrl.models import ActorCritic, GenerationSettings, entropy, generate, token_logprobs

Autocast = Callable[[], contextlib.AbstractContextManager[Any]]


@dataclass(frozen=True)
class Rollout:
    input_ids: torch.Tensor  # [B, P + T] left-padded prompt, right-padded response
    attention_mask: torch.Tensor
    prompt_len: int  # P
    response_ids: torch.Tensor  # [B, T]
    mask: torch.Tensor  # [B, T] float, 1 on the policy's tokens
    logp: torch.Tensor  # [B, T] policy log-probabilities at sampling time
    ref_logp: torch.Tensor  # [B, T] reference log-probabilities
    values: torch.Tensor | None  # [B, T] the critic's value of the state before each token
    groups: torch.Tensor  # [B] index of the prompt each response answers

    @property
    def size(self) -> int:
        return self.input_ids.shape[0]

    def lengths(self) -> list[int]:
        return [int(n) for n in self.mask.sum(1)]


@dataclass(frozen=True)
class ScoredTokens:
    logp: torch.Tensor
    entropy: torch.Tensor
    values: torch.Tensor | None


def score_tokens(
    model: ActorCritic, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_ids: torch.Tensor
) -> ScoredTokens:
    """The response tokens' log-probabilities, entropies and values in one forward pass."""
    logits, values = model(input_ids, attention_mask, response_ids.shape[1])
    return ScoredTokens(token_logprobs(logits, response_ids), entropy(logits), None if values is None else values.float())


@torch.no_grad()
def collect_rollout(
    model: ActorCritic,
    tokenizer: Any,
    prompt_ids: Sequence[Sequence[int]],
    groups: Sequence[int],
    settings: GenerationSettings,
    micro_batch_size: int,
    autocast: Autocast = contextlib.nullcontext,
) -> Rollout:
    was_training = model.training
    model.eval()
    try:
        with autocast():
            generated = generate(model.policy, tokenizer, prompt_ids, settings)
        input_ids, attention = generated.input_ids, generated.attention_mask
        prompt_len, response_ids = generated.prompt_ids.shape[1], generated.response_ids
        logp, ref_logp, values = [], [], []
        for start in range(0, input_ids.shape[0], micro_batch_size):
            rows = slice(start, start + micro_batch_size)
            with autocast():
                scored = score_tokens(model, input_ids[rows], attention[rows], response_ids[rows])
                ref = model.reference_logits(input_ids[rows], attention[rows], response_ids.shape[1])
            logp.append(scored.logp)
            ref_logp.append(token_logprobs(ref, response_ids[rows]))
            values.append(scored.values)
    finally:
        model.train(was_training)
    return Rollout(
        input_ids=input_ids,
        attention_mask=attention,
        prompt_len=prompt_len,
        response_ids=response_ids,
        mask=generated.response_mask.float(),
        logp=torch.cat(logp),
        ref_logp=torch.cat(ref_logp),
        values=torch.cat(values) if model.has_values else None,
        groups=torch.tensor(list(groups), device=input_ids.device),
    )
