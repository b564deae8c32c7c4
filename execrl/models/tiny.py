"""Tiny randomly initialised Llama-style causal LMs, for experiments that must train in minutes on a CPU.

A spec is written ``tiny:`` or ``tiny:hidden=128,layers=4`` (any field of :class:`TinyModelSpec`). With a
real tokenizer the embedding dominates the parameter count (SmolLM2's 49k tokens x 128 = 6.3M), so the
input and output embeddings are tied and the hidden size is small.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from execrl.errors import ExecrlError

TINY_PREFIX = "tiny:"


class TinyModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: int = Field(128, gt=0)
    layers: int = Field(4, gt=0)
    heads: int = Field(4, gt=0)
    kv_heads: int = Field(2, gt=0)
    intermediate: int = Field(512, gt=0)
    max_positions: int = Field(1024, gt=0)

    @model_validator(mode="after")
    def _divisible(self) -> TinyModelSpec:
        if self.hidden % self.heads or self.heads % self.kv_heads:
            raise ValueError("hidden must be a multiple of heads, and heads a multiple of kv_heads")
        return self


def is_tiny_spec(name: str) -> bool:
    return name.startswith(TINY_PREFIX)


def parse_tiny_spec(text: str) -> TinyModelSpec:
    """``tiny:hidden=128,layers=4`` -> the spec; unnamed fields keep their defaults."""
    if not is_tiny_spec(text):
        raise ExecrlError(f"{text!r} is not a tiny model spec: write e.g. tiny:hidden=128,layers=4")
    fields: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text[len(TINY_PREFIX) :].split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ExecrlError(f"tiny model spec {text!r}: {item!r} is not key=value")
        fields[key.strip()] = value.strip()
    try:
        return TinyModelSpec.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        known = ", ".join(TinyModelSpec.model_fields)
        raise ExecrlError(f"tiny model spec {text!r}: {problems} (fields: {known})") from exc


def build_tiny_model(spec: TinyModelSpec, tokenizer: Any, seed: int = 0) -> Any:
    """A randomly initialised ``LlamaForCausalLM`` sized by ``spec`` for ``tokenizer``'s vocabulary."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden,
        intermediate_size=spec.intermediate,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.kv_heads,
        max_position_embeddings=spec.max_positions,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def save_model_dir(model: Any, tokenizer: Any, directory: str | os.PathLike[str]) -> Path:
    """Save ``model`` and ``tokenizer`` as an ordinary HF directory, loadable as ``model.name: <dir>``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory
