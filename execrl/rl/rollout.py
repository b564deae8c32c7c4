"""One rollout: sample responses with the rollout engine, then score every response token under the
policy, the reference and the critic.

Log-probabilities are recomputed by the trainer's own forward pass (dropout off) rather than taken
from the engine: the update's forward pass must see exactly the same computation for PPO's ratio.
All of them are taken at the sampling temperature (``execrl.models.logprobs``). With
``share_prefix``, a pass computes each prompt once for the samples of it that the pass holds
(``SharedPrompts``), and passes are cut so that a prompt's samples stay together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from execrl.engines import RolloutEngine
from execrl.models import ActorCritic, GenerationSettings, SharedPrompts, TokenScores

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
    share_prefix: bool = True  # the scoring and update passes compute each prompt once for its samples

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
    groups: torch.Tensor | None = None,
    with_entropy: bool = True,
) -> TokenScores:
    """``model``'s scores of ``rows``' response tokens (the reference's log-probs with ``reference``),
    computed on those rows' own window and padded back to the full width with zeros. ``groups``
    (each row's prompt): rows of one prompt share its pass (``SharedPrompts``). Only the masked
    tokens are projected onto the vocabulary."""
    window = _window(attention_mask, prompt_len, response_mask, rows)
    end = prompt_len + window.response_len
    ids, attention = input_ids[rows, window.start : end], attention_mask[rows, window.start : end]
    responses = response_ids[rows, : window.response_len]
    real = response_mask[rows, : window.response_len]
    shared = None if groups is None else SharedPrompts.of(ids, prompt_len - window.start, groups[rows])
    width = response_ids.shape[1]

    def widen(values: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(values, (0, width - values.shape[1]))

    if reference:
        logp = model.reference_logprobs(ids, attention, responses, temperature, shared, real)
        return TokenScores(widen(logp), None, None)
    scores = model.score(ids, attention, responses, temperature, shared, real, with_entropy)
    values = None if scores.values is None else widen(scores.values)
    return TokenScores(widen(scores.logp), None if scores.entropy is None else widen(scores.entropy), values)


def micro_batches(
    lengths: torch.Tensor, rows: torch.Tensor, size: int, groups: torch.Tensor | None = None
) -> list[torch.Tensor]:
    """``rows`` split into passes of ``size``, rows of similar length together (less padding per pass);
    with ``groups``, a prompt's rows next to each other (so that they share a pass) and prompts
    ordered by their longest row."""
    ordered = rows[torch.argsort(lengths[rows], stable=True)]
    if groups is not None:
        labels = groups[ordered]
        longest = torch.zeros(int(groups.max()) + 1, dtype=lengths.dtype, device=lengths.device)
        longest = longest.scatter_reduce(0, labels, lengths[ordered], reduce="amax")
        ordered = ordered[torch.argsort(longest[labels] * len(longest) + labels, stable=True)]
    return list(ordered.split(size))


def shuffled_rows(groups: torch.Tensor, by_group: bool) -> torch.Tensor:
    """A random order of the rows; ``by_group``: prompts in random order, each prompt's rows together."""
    if not by_group:
        return torch.randperm(len(groups)).to(groups.device)
    order = torch.randperm(int(groups.max()) + 1).to(groups.device)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order), device=groups.device)
    return torch.argsort(rank[groups], stable=True)


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
    groups = torch.arange(len(prompts), device=generated.prompt_ids.device).repeat_interleave(samples)
    shared = groups if settings.share_prefix else None
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
        for rows in micro_batches(lengths, torch.arange(size, device=input_ids.device), micro_batch_size, shared):
            with autocast():
                scored = score_rows(
                    model, input_ids, attention, prompt_len, response_ids, mask, rows, settings.temperature,
                    groups=shared, with_entropy=False,
                )
                ref = score_rows(
                    model, input_ids, attention, prompt_len, response_ids, mask, rows, settings.temperature,
                    reference=True, groups=shared,
                )
            logp[rows], ref_logp[rows] = scored.logp, ref.logp
            if values is not None and scored.values is not None:
                values[rows] = scored.values
    finally:
        model.train(was_training)
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
        share_prefix=settings.share_prefix,
    )
