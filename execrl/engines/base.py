"""The rollout engine interface: what the trainer needs from whatever samples responses.

An engine turns prompts into sampled responses with the policy's current weights. The trainer calls
``sync(policy)`` after every update and ``generate`` for each rollout and evaluation; it never asks an
engine for log-probabilities (those are recomputed by the trainer's own forward pass, so PPO's ratio
compares like with like). A new engine (SGLang, a remote server) is one module that registers a
factory with ``register_engine``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from execrl.models.generation import Generated, GenerationSettings
from execrl.models.precision import ComputePrecision


class RolloutEngine(Protocol):
    def sync(self, policy: Any) -> None:
        """Sample from ``policy``'s current weights from now on (called after every optimiser update)."""
        ...

    def generate(
        self, prompts: Sequence[Sequence[int]], samples: int, settings: GenerationSettings, greedy: bool = False
    ) -> Generated:
        """``samples`` responses to each prompt (token ids, no padding), rows grouped by prompt:
        row ``i * samples + j`` is prompt ``i``'s ``j``-th sample. ``greedy`` (or temperature 0): argmax."""
        ...

    def close(self) -> None:
        """Release what the engine holds (an inference copy, a server, GPU memory)."""
        ...


@dataclass(frozen=True)
class EngineContext:
    """What an engine factory gets: the tokenizer, the device and precision of the run, and its seed."""

    tokenizer: Any
    device: torch.device
    precision: ComputePrecision
    seed: int = 0


EngineFactory = Callable[[EngineContext, GenerationSettings], RolloutEngine]
ENGINES: dict[str, EngineFactory] = {}


def register_engine(name: str) -> Callable[[EngineFactory], EngineFactory]:
    def decorate(factory: EngineFactory) -> EngineFactory:
        if name in ENGINES and ENGINES[name] is not factory:
            raise ValueError(f"rollout engine {name!r} is already registered")
        ENGINES[name] = factory
        return factory

    return decorate
