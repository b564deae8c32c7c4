"""Batched sampling with the KV cache: left-padded prompts in, right-padded responses with lengths out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field


class VLLMSettings(BaseModel):
    """Start-up settings of the vllm rollout engine (execrl/engines/vllm.py); the other backends ignore them.

    The engine shares its device with training, so it takes only part of a GPU, and on a CPU a KV
    cache sized for the rollout batch rather than vLLM's share of the machine's memory.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpu_memory_utilization: float = Field(0.3, gt=0, le=1)  # GPU: vLLM's share (weights + KV cache)
    kv_cache_gib: float | None = Field(None, gt=0)  # explicit KV cache size; None: see kv_cache_bytes
    max_model_len: int | None = Field(None, gt=0)  # None: max_prompt_tokens + max_new_tokens
    max_num_seqs: int = Field(256, gt=0)  # sequences decoded together; more wait for a free slot
    enforce_eager: bool | None = None  # None: eager on a CPU (compiling costs minutes), graphs on a GPU
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"  # auto: the run's precision


class GenerationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int = Field(256, gt=0)
    max_prompt_tokens: int = Field(512, gt=0)  # longer prompts lose their start, with a warning
    temperature: float = Field(1.0, ge=0)  # 0: greedy
    top_p: float = Field(1.0, gt=0, le=1)
    stop_strings: tuple[str, ...] = ()
    backend: str = "hf"  # the rollout engine (execrl/engines): hf, hf_generate, vllm
    share_prefix: bool = True  # hf: prefill each prompt once for all its samples
    vllm: VLLMSettings = VLLMSettings()  # start-up settings of the vllm backend


@dataclass(frozen=True)
class Generated:
    """A batch of prompts and sampled responses.

    ``prompt_ids`` are left-padded (``prompt_mask`` marks real tokens); ``response_ids`` are
    right-padded and ``response_mask`` marks the tokens the policy chose, up to and including the
    eos token or the token that completed a stop string.
    """

    prompt_ids: torch.Tensor
    prompt_mask: torch.Tensor
    response_ids: torch.Tensor
    response_mask: torch.Tensor

    @property
    def input_ids(self) -> torch.Tensor:
        return torch.cat([self.prompt_ids, self.response_ids], dim=1)

    @property
    def attention_mask(self) -> torch.Tensor:
        return torch.cat([self.prompt_mask, self.response_mask], dim=1)

    @property
    def lengths(self) -> list[int]:
        return [int(n) for n in self.response_mask.sum(dim=1)]

    def response(self, row: int) -> list[int]:
        return self.response_ids[row, : self.lengths[row]].tolist()


class _FinishRecorder:
    """A stopping criterion that remembers where each row first ended (eos or a stop string).

    Stop strings are looked for in the response only: transformers' own criterion also matches a
    stop string that starts in the prompt (a chat prompt ending in a newline and a response starting
    with a code fence would end every response at its first token).
    """

    def __init__(self, tokenizer: Any, eos_ids: Sequence[int], stop_strings: Sequence[str], prompt_len: int, rows: int):
        self.tokenizer = tokenizer
        self.stops = tuple(stop_strings)
        # Enough trailing tokens to hold any stop string: every token decodes to at least one character.
        self.window = max((len(s) for s in self.stops), default=0) + 2
        self.eos = torch.tensor(list(eos_ids), dtype=torch.long)
        self.prompt_len = prompt_len
        self.ends = torch.full((rows,), -1, dtype=torch.long)

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        done = torch.isin(input_ids[:, -1].cpu(), self.eos)
        if self.stops:
            tails = input_ids[:, self.prompt_len :][:, -self.window :].tolist()
            for row, tail in enumerate(tails):
                if self.ends[row] < 0 and not done[row]:
                    text = self.tokenizer.decode(tail, skip_special_tokens=True)
                    done[row] = any(stop in text for stop in self.stops)
        fresh = done & (self.ends < 0)
        self.ends[fresh] = input_ids.shape[1] - self.prompt_len
        return (self.ends >= 0).to(input_ids.device)


def eos_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every id that ends a response: the model's generation config's eos ids and the tokenizer's."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return sorted(ids)


def left_pad(rows: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row) :] = 1
    return ids.to(device), mask.to(device)


@torch.no_grad()
def generate(
    model: Any, tokenizer: Any, prompt_ids: Sequence[Sequence[int]], settings: GenerationSettings, greedy: bool = False
) -> Generated:
    """Sample one response per prompt (``greedy`` or temperature 0: argmax decoding)."""
    from transformers import StoppingCriteriaList

    device = next(model.parameters()).device
    ids, mask = left_pad(prompt_ids, tokenizer.pad_token_id, device)
    end_ids = eos_ids(model, tokenizer)
    recorder = _FinishRecorder(tokenizer, end_ids, settings.stop_strings, ids.shape[1], len(prompt_ids))
    sample = not greedy and settings.temperature > 0
    was_training = model.training
    model.eval()
    try:
        output = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=settings.max_new_tokens,
            do_sample=sample,
            temperature=settings.temperature if sample else None,
            top_p=settings.top_p if sample else None,
            top_k=0 if sample else None,  # transformers' default would keep only the 50 likeliest tokens
            stopping_criteria=StoppingCriteriaList([recorder]),
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=end_ids,
            use_cache=True,
        )
    finally:
        model.train(was_training)
    response = output[:, ids.shape[1] :]
    ends = recorder.ends.clone()
    ends[ends < 0] = response.shape[1]
    positions = torch.arange(response.shape[1]).unsqueeze(0)
    response_mask = (positions < ends.unsqueeze(1)).long().to(device)
    response = response.masked_fill(response_mask == 0, tokenizer.pad_token_id)
    return Generated(ids, mask, response, response_mask)
