"""The policy's current weights as a plain model: LoRA deltas merged in, in the rollout precision.

Sampling from an unmerged peft model pays two extra small matmuls per adapted layer per token and
peft's Python dispatch around them; a merged copy decodes at the base model's speed. The copy is
built once; each ``sync`` rewrites only the weights an update can have changed (the adapted layers,
or every trainable weight under full fine-tuning). Engines that hold weights elsewhere (vLLM) take
the same merged tensors from ``merged_weights``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import torch


def _unwrapped(policy: Any) -> Any:
    return policy.get_base_model() if hasattr(policy, "get_base_model") else policy


def _lora_layers(policy: Any) -> Iterator[tuple[str, Any]]:
    """(name in the plain model, peft LoRA layer) for every adapted layer of ``policy``."""
    from peft.tuners.lora import LoraLayer

    for name, module in _unwrapped(policy).named_modules():
        if isinstance(module, LoraLayer):
            yield name, module


@torch.no_grad()
def merged_weights(policy: Any) -> Iterator[tuple[str, torch.Tensor]]:
    """``(parameter name, value)`` of every weight an update can change, with LoRA deltas merged.

    Names are those of the plain (unwrapped, unmerged-free) model, e.g. ``model.layers.0.self_attn.q_proj.weight``.
    """
    if not hasattr(policy, "disable_adapter"):
        for name, param in policy.named_parameters():
            if param.requires_grad:
                yield name, param.detach()
        return
    for name, layer in _lora_layers(policy):
        base = layer.get_base_layer().weight
        delta = sum(
            (layer.get_delta_weight(adapter).float() for adapter in layer.active_adapters if adapter in layer.lora_A),
            torch.zeros((), device=base.device),
        )
        yield f"{name}.weight", base.float() + delta


class InferenceCopy:
    """A plain transformers model holding ``policy``'s merged weights in ``dtype``, for sampling only."""

    def __init__(self, policy: Any, dtype: torch.dtype) -> None:
        source = copy.deepcopy(policy)
        plain = source.merge_and_unload() if hasattr(source, "merge_and_unload") else source
        self.model = plain.to(dtype).eval().requires_grad_(False)
        self._params = dict(self.model.named_parameters())

    @torch.no_grad()
    def sync(self, policy: Any) -> None:
        for name, value in merged_weights(policy):
            target = self._params.get(name)
            if target is None:
                raise RuntimeError(f"the inference copy has no weight {name!r}; was the model's structure changed?")
            target.copy_(value)
