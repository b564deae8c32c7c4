"""The default rollout engine: transformers forward passes in a sampling loop of execrl's own.

What it does that ``model.generate`` on the training model did not (bench/rl_step.py measures each):

- samples from a merged inference copy in the rollout precision (``engines/weights.py``);
- keeps the KV cache in buffers that grow by doubling (``engines/kv_cache.py``), not re-made per token;
- prefills each distinct prompt once and repeats its KV cache for its samples;
- drops finished rows from the batch (and their cache) as they end, and stops when all have ended;
- finds stop strings without decoding every row at every step: only a row whose new token can end a
  stop string (a per-vocabulary table, built once) has its tail decoded and searched.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch

from execrl.engines.base import EngineContext, register_engine
from execrl.engines.kv_cache import decoding_cache
from execrl.engines.weights import InferenceCopy
from execrl.models.generation import Generated, GenerationSettings, eos_ids, left_pad

_COMPACT_FRACTION = 0.25  # drop finished rows once this share of the running ones has ended


class StopMatcher:
    """Which rows a step's new tokens end, by eos or by completing a stop string in the response."""

    def __init__(self, tokenizer: Any, eos: Sequence[int], stops: Sequence[str], vocab_size: int, device: torch.device):
        self.tokenizer = tokenizer
        self.stops = tuple(stops)
        self.eos = torch.zeros(vocab_size, dtype=torch.bool, device=device)
        self.eos[[i for i in eos if i < vocab_size]] = True
        # A stop string is complete only once a token bringing its last character arrives. Tokens
        # that decode alone to a replacement character may be part of any character.
        self.window = 4 * max((len(s) for s in self.stops), default=0) + 2
        self.may_end = torch.zeros(vocab_size, dtype=torch.bool, device=device)
        if self.stops:
            lasts = {s[-1] for s in self.stops if s}
            pieces = tokenizer.batch_decode([[i] for i in range(vocab_size)], skip_special_tokens=True)
            flags = [any(c in piece for c in lasts) or "\ufffd" in piece for piece in pieces]
            # A stop string ending in whitespace may end in a leading space a decoder strips from a lone piece.
            if any(s[-1].isspace() for s in self.stops if s):
                flags = [True] * vocab_size
            self.may_end[: len(flags)] = torch.tensor(flags, dtype=torch.bool)

    def ended(
        self, new_tokens: torch.Tensor, responses: list[list[int]], rows: Sequence[int], alive: Sequence[int]
    ) -> torch.Tensor:
        """``[n]`` bool: which of the batch's ``alive`` rows end with their new token (``rows`` maps a
        batch row to its response in ``responses``)."""
        done = torch.zeros_like(new_tokens, dtype=torch.bool)
        if not alive:
            return done
        index = torch.tensor(alive, device=new_tokens.device)
        done[index] = self.eos[new_tokens[index]]
        if self.stops:
            candidates = index[self.may_end[new_tokens[index]] & ~done[index]]
            for k in candidates.tolist():
                tail = self.tokenizer.decode(responses[rows[k]][-self.window :], skip_special_tokens=True)
                done[k] = any(stop in tail for stop in self.stops)
        return done


def _sample(logits: torch.Tensor, settings: GenerationSettings, greedy: bool) -> torch.Tensor:
    if greedy or settings.temperature == 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / settings.temperature, dim=-1)
    if settings.top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        # keep the smallest prefix whose mass reaches top_p (the first token always stays)
        drop = sorted_probs.cumsum(-1) - sorted_probs > settings.top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return torch.multinomial(probs, 1).squeeze(-1)


class HFEngine:
    def __init__(self, context: EngineContext, settings: GenerationSettings) -> None:
        self.tokenizer = context.tokenizer
        self.device = context.device
        self.dtype = context.precision.dtype
        self.share_prefix = settings.share_prefix
        self.copy: InferenceCopy | None = None
        self._stops: dict[tuple[str, ...], StopMatcher] = {}
        self._cache_kwarg = "cache"

    def sync(self, policy: Any) -> None:
        if self.copy is None:
            self.copy = InferenceCopy(policy, self.dtype)
            forward = inspect.signature(type(self.copy.model).forward).parameters
            self._cache_kwarg = "cache" if "cache" in forward else "past_key_values"
        else:
            self.copy.sync(policy)

    def close(self) -> None:
        self.copy = None

    def _matcher(self, model: Any, stops: tuple[str, ...]) -> StopMatcher:
        if stops not in self._stops:
            vocab = model.get_output_embeddings().weight.shape[0]
            self._stops[stops] = StopMatcher(self.tokenizer, eos_ids(model, self.tokenizer), stops, vocab, self.device)
        return self._stops[stops]

    @torch.no_grad()
    def generate(
        self, prompts: Sequence[Sequence[int]], samples: int, settings: GenerationSettings, greedy: bool = False
    ) -> Generated:
        if self.copy is None:
            raise RuntimeError("HFEngine.generate before sync(policy): the engine has no weights yet")
        model = self.copy.model
        pad = self.tokenizer.pad_token_id
        share = self.share_prefix and samples > 1
        unique_ids, unique_mask = left_pad(prompts if share else [p for p in prompts for _ in range(samples)], pad, self.device)
        prompt_ids = unique_ids.repeat_interleave(samples, 0) if share else unique_ids
        prompt_mask = unique_mask.repeat_interleave(samples, 0) if share else unique_mask
        rows = prompt_ids.shape[0]
        matcher = self._matcher(model, tuple(settings.stop_strings))

        cache = decoding_cache(model.config)
        positions = (unique_mask.cumsum(-1) - 1).clamp(min=0)
        # The last position as an index tensor, not logits_to_keep=1: the int form slices a
        # non-contiguous [rows, 1, hidden] view, on which torch's matmul expands the head weight to
        # [rows, hidden, vocabulary] and copies it (3.6 GB and half of a 64-row rollout's time at a
        # 49k vocabulary); indexing with a tensor gathers a contiguous copy instead.
        last = torch.tensor([unique_ids.shape[1] - 1], device=self.device)
        out = model(input_ids=unique_ids, attention_mask=unique_mask, position_ids=positions,
                    use_cache=True, logits_to_keep=last, **{self._cache_kwarg: cache})
        logits = out.logits[:, -1]
        if share:
            cache.batch_repeat_interleave(samples)
            logits = logits.repeat_interleave(samples, 0)
        mask = prompt_mask
        next_position = mask.sum(-1, keepdim=True)
        running = list(range(rows))  # the original row of each row still in the batch
        done = torch.zeros(rows, dtype=torch.bool, device=self.device)
        responses: list[list[int]] = [[] for _ in range(rows)]
        for _ in range(settings.max_new_tokens):
            tokens = _sample(logits, settings, greedy).masked_fill(done, pad)
            alive = torch.nonzero(~done).flatten().tolist()
            for k, token in zip(alive, tokens[alive].tolist()):
                responses[running[k]].append(token)
            done |= matcher.ended(tokens, responses, running, alive)
            if bool(done.all()):
                break
            if int(done.sum()) >= _COMPACT_FRACTION * len(running):
                keep = torch.nonzero(~done).flatten()
                cache.batch_select_indices(keep)
                running = [running[k] for k in keep.tolist()]
                tokens, mask, next_position, done = tokens[keep], mask[keep], next_position[keep], done[keep]
            # A finished row still in the batch feeds padding, masked out; its outputs are ignored.
            mask = torch.cat([mask, (~done).long().unsqueeze(1)], dim=1)
            out = model(input_ids=tokens.unsqueeze(1), attention_mask=mask, position_ids=next_position,
                        use_cache=True, **{self._cache_kwarg: cache})
            logits = out.logits[:, -1]
            next_position = next_position + 1
        return _assemble(prompt_ids, prompt_mask, responses, pad, self.device)


def _assemble(
    prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, responses: list[list[int]], pad: int, device: torch.device
) -> Generated:
    width = max(1, max(len(r) for r in responses))
    ids = torch.full((len(responses), width), pad, dtype=torch.long)
    mask = torch.zeros((len(responses), width), dtype=torch.long)
    for i, response in enumerate(responses):
        ids[i, : len(response)] = torch.tensor(response, dtype=torch.long)
        mask[i, : len(response)] = 1
    return Generated(prompt_ids, prompt_mask, ids.to(device), mask.to(device))


@register_engine("hf")
def _build(context: EngineContext, settings: GenerationSettings) -> HFEngine:
    return HFEngine(context, settings)
