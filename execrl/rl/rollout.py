"""One rollout: sample responses with the rollout engine, then score every response token under the
policy, the reference and the critic.

Log-probabilities are recomputed by the trainer's own forward pass (dropout off) rather than taken
from the engine: the update's forward pass must see exactly the same computation for PPO's ratio.
All of them are taken at the sampling temperature (``execrl.models.logprobs``). Each pass computes
every row's prompt: sharing a prompt among its samples through its KV cache gave the same numbers in
float32 but, in bf16, log-probs that moved by up to 0.18 nats with the other rows of the pass (0.0008
unshared), noise in PPO's ratio (docs/training.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from execrl.engines import RolloutEngine
from execrl.models import ActorCritic, GenerationSettings, TokenScores

Autocast = Callable[[], object]


@dataclass(frozen=True)
class Rollout:
    input_ids: torch.Tensor  # [B, P + T] left-padded prompt, right-padded response
    attention_mask: torch.Tensor
    prompt_len: int  # P
    response_ids: torch.Tensor  # [B, T]
    mask: torch.Tensor  # [B, T] float, 1 on the policy's tokens
    logp: torch.Tensor  # [B, T] policy log-probabilities at sampling time (at the sampling temperature)
    ref_logp: torch.Tensor  # [B, T] reference log-probabilities (same temperature)
    values: torch.Tensor | None  # [B, T] the critic's value of the state before each token
    groups: torch.Tensor  # [B] index of the prompt each response answers
    temperature: float

    @property
    def size(self) -> int:
        return self.input_ids.shape[0]

    def lengths(self) -> list[int]:
        return [int(n) for n in self.mask.sum(1)]


@dataclass(frozen=True)
class _Window:
    """The columns of some rows that hold real tokens: the rest is padding of other rows."""

    start: int  # first column with a real prompt token in any of the rows
    response_len: int  # longest response among the rows


def _window(attention_mask: torch.Tensor, prompt_len: int, response_mask: torch.Tensor, rows: torch.Tensor) -> _Window:
    prompt = attention_mask[rows, :prompt_len]
    real = prompt.any(0).nonzero()
    start = int(real[0]) if len(real) else prompt_len
    return _Window(start, max(1, int(response_mask[rows].sum(1).max())))


def score_rows(
    model: ActorCritic,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    prompt_len: int,
    response_ids: torch.Tensor,
    response_mask: torch.Tensor,
    rows: torch.Tensor,
    temperature: float,
    reference: bool = False,
    with_entropy: bool = True,
) -> TokenScores:
    """``model``'s scores of ``rows``' response tokens (the reference's log-probs with ``reference``),
    computed on those rows' own window and padded back to the full width with zeros. Only the masked
    tokens are projected onto the vocabulary; ``with_entropy=False``: no entropies (None)."""
    window = _window(attention_mask, prompt_len, response_mask, rows)
    end = prompt_len + window.response_len
    ids, attention = input_ids[rows, window.start : end], attention_mask[rows, window.start : end]
    responses = response_ids[rows, : window.response_len]
    real = response_mask[rows, : window.response_len]
    width = response_ids.shape[1]

    def widen(values: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(values, (0, width - values.shape[1]))

    if reference:
        logp = model.reference_logprobs(ids, attention, responses, temperature, real)
        return TokenScores(widen(logp), None, None)
    scores = model.score(ids, attention, responses, temperature, real, with_entropy)
    values = None if scores.values is None else widen(scores.values)
    return TokenScores(widen(scores.logp), None if scores.entropy is None else widen(scores.entropy), values)


def micro_batches(lengths: torch.Tensor, rows: torch.Tensor, size: int) -> list[torch.Tensor]:
    """``rows`` split into groups of ``size``, rows of similar length together (less padding per pass)."""
    ordered = rows[torch.argsort(lengths[rows], stable=True)]
    return list(ordered.split(size))


@torch.no_grad()
def collect_rollout(
    model: ActorCritic,
    engine: RolloutEngine,
    prompts: Sequence[Sequence[int]],
    samples: int,
    settings: GenerationSettings,
    micro_batch_size: int,
    autocast: Autocast,
) -> Rollout:
    """``samples`` responses to each of ``prompts`` (rows grouped by prompt) and their token scores."""
    generated = engine.generate(prompts, samples, settings)
    input_ids, attention = generated.input_ids, generated.attention_mask
    prompt_len, response_ids = generated.prompt_ids.shape[1], generated.response_ids
    mask = generated.response_mask.float()
    size, width = input_ids.shape[0], response_ids.shape[1]
    logp = torch.zeros((size, width), device=input_ids.device)
    ref_logp = torch.zeros_like(logp)
    values = torch.zeros_like(logp) if model.has_values else None
    was_training = model.training
    model.eval()
    try:
        lengths = attention.sum(1)
        for rows in micro_batches(lengths, torch.arange(size, device=input_ids.device), micro_batch_size):
            with autocast():
                scored = score_rows(
                    model, input_ids, attention, prompt_len, response_ids, mask, rows, settings.temperature,
                    with_entropy=False,
                )
                ref = score_rows(
                    model, input_ids, attention, prompt_len, response_ids, mask, rows, settings.temperature,
                    reference=True,
                )
            logp[rows], ref_logp[rows] = scored.logp, ref.logp
            if values is not None and scored.values is not None:
                values[rows] = scored.values
    finally:
        model.train(was_training)
    groups = torch.arange(len(prompts), device=input_ids.device).repeat_interleave(samples)
    return Rollout(
        input_ids=input_ids,
        attention_mask=attention,
        prompt_len=prompt_len,
        response_ids=response_ids,
        mask=mask,
        logp=logp * mask,
        ref_logp=ref_logp * mask,
        values=None if values is None else values * mask,
        groups=groups,
        temperature=settings.temperature,
    )
