"""The actor-critic: a causal LM (usually with a LoRA adapter), a value head, and the reference policy.

The value head is a linear layer on the policy's last hidden state (shared trunk) or on a separate
critic model. The reference policy is the same model with its adapter disabled, so no second copy
of the weights is kept; only full fine-tuning (no LoRA) holds a frozen copy.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
from collections.abc import Iterator
from typing import Any, Literal

import torch
from torch import nn

ValueMode = Literal["shared", "separate", "none"]


def _value_head(hidden_size: int) -> nn.Linear:
    head = nn.Linear(hidden_size, 1)
    nn.init.normal_(head.weight, std=1.0 / (hidden_size + 1) ** 0.5)
    nn.init.zeros_(head.bias)
    return head


def position_ids_for(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions counted over real tokens only, as ``generate`` counts them for left-padded rows."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def _predicting(per_position: torch.Tensor, response_len: int) -> torch.Tensor:
    """The entries at the positions that predict the last ``response_len`` tokens: the ones before them."""
    length = per_position.shape[1]
    return per_position[:, length - response_len - 1 : length - 1]


class ActorCritic(nn.Module):
    def __init__(self, policy: Any, value_mode: ValueMode = "shared", critic: Any = None) -> None:
        super().__init__()
        self.policy = policy
        self.uses_adapter = hasattr(policy, "disable_adapter")
        # Full fine-tuning moves the policy's own weights, so the reference must be a frozen copy.
        self.reference = None if self.uses_adapter else copy.deepcopy(policy).requires_grad_(False).eval()
        self.critic = critic if value_mode == "separate" else None
        self.value_mode = value_mode
        trunk = critic if value_mode == "separate" else policy
        hidden = trunk.config.get_text_config().hidden_size
        self.value_head = _value_head(hidden) if value_mode != "none" else None

    @property
    def has_values(self) -> bool:
        return self.value_head is not None

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_len: int
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits ``[B, R, V]`` and values ``[B, R]`` (None without a value head) at the positions that
        predict the last ``response_len`` tokens of ``input_ids`` (the response)."""
        positions = position_ids_for(attention_mask)
        shared = self.value_mode == "shared"
        out = self.policy(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=positions,
            output_hidden_states=shared, **self._keep(response_len),
        )
        logits = _predicting(out.logits, response_len)
        if self.value_head is None:
            return logits, None
        if shared:
            hidden = out.hidden_states[-1]
        else:
            hidden = self.critic(
                input_ids=input_ids, attention_mask=attention_mask, position_ids=positions, output_hidden_states=True
            ).hidden_states[-1]
        values = self.value_head(_predicting(hidden, response_len).to(self.value_head.weight.dtype)).squeeze(-1)
        return logits, values

    @torch.no_grad()
    def reference_logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_len: int) -> torch.Tensor:
        """The reference policy's logits ``[B, R, V]``, as ``forward`` gives the policy's."""
        positions = position_ids_for(attention_mask)
        with self.reference_policy() as reference:
            out = reference(
                input_ids=input_ids, attention_mask=attention_mask, position_ids=positions, **self._keep(response_len)
            )
        return _predicting(out.logits, response_len)

    def _keep(self, response_len: int) -> dict[str, int]:
        # The vocabulary projection over every prompt position was most of a step's compute (a 49k
        # vocabulary, prompts longer than responses): models that can, project only what is used.
        return {"logits_to_keep": response_len + 1} if self._can_keep_logits else {}

    @functools.cached_property
    def _can_keep_logits(self) -> bool:
        base = self.policy.get_base_model() if hasattr(self.policy, "get_base_model") else self.policy
        return "logits_to_keep" in inspect.signature(type(base).forward).parameters

    @contextlib.contextmanager
    def reference_policy(self) -> Iterator[Any]:
        if self.reference is not None:
            yield self.reference
            return
        with self.policy.disable_adapter():
            yield self.policy

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """Every trainable tensor by name: what a checkpoint must keep (adapter(s) and value head)."""
        return {name: p.detach() for name, p in self.named_parameters() if p.requires_grad}

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        params = dict(self.named_parameters())
        expected = {name for name, p in params.items() if p.requires_grad}
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise ValueError(f"checkpoint does not match the model: missing {missing[:3]}, unexpected {extra[:3]}")
        with torch.no_grad():
            for name, value in state.items():
                params[name].copy_(value)
