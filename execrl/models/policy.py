"""The actor-critic: a causal LM (usually with a LoRA adapter), a value head, and the reference policy.

The value head is a linear layer on the policy's last hidden state (shared trunk) or on a separate
critic model. The reference policy is the same model with its adapter disabled, so no second copy
of the weights is kept; only full fine-tuning (no LoRA) holds a frozen copy.

Scores of response tokens come from the decoder's final hidden states and the output projection,
chunked (``execrl.models.logprobs.head_logprobs``), at the sampling temperature. A model whose logits
are more than ``hidden @ lm_head.weight.T`` (a bias, soft-capping, a logit scale) is detected on first
use and scored through its own logits instead.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from execrl.models.logprobs import entropy, head_logprobs, token_logprobs

ValueMode = Literal["shared", "separate", "none"]


def _value_head(hidden_size: int) -> nn.Linear:
    # Zero-initialised: the critic starts out predicting 0 for every state instead of noise of the
    # size of the rewards (a random head on SmolLM2 gave -2.4 +- 1.5 per token against rewards in
    # [-1, 1.5], and its GAE advantages were critic noise for the first steps).
    head = nn.Linear(hidden_size, 1)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    return head


def position_ids_for(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions counted over real tokens only, as ``generate`` counts them for left-padded rows."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def _predicting(per_position: torch.Tensor, response_len: int) -> torch.Tensor:
    """The entries at the positions that predict the last ``response_len`` tokens: the ones before them."""
    length = per_position.shape[1]
    return per_position[:, length - response_len - 1 : length - 1]


def _unwrapped(model: Any) -> Any:
    return model.get_base_model() if hasattr(model, "get_base_model") else model


@dataclass(frozen=True)
class TokenScores:
    """Per response token: log-probability and entropy at the sampling temperature, and the critic's value."""

    logp: torch.Tensor  # [B, R] float32
    entropy: torch.Tensor | None  # [B, R] float32; None where not asked for
    values: torch.Tensor | None  # [B, R] float32, the value of the state before each token


class ActorCritic(nn.Module):
    def __init__(
        self, policy: Any, value_mode: ValueMode = "shared", critic: Any = None, critic_trains_trunk: bool = False
    ) -> None:
        super().__init__()
        self.policy = policy
        self.uses_adapter = hasattr(policy, "disable_adapter")
        # Full fine-tuning moves the policy's own weights, so the reference must be a frozen copy.
        self.reference = None if self.uses_adapter else copy.deepcopy(policy).requires_grad_(False).eval()
        self.critic = critic if value_mode == "separate" else None
        self.value_mode = value_mode
        # With a shared trunk, the value loss's gradient reaches the policy's adapter only when asked:
        # measured on SmolLM2 it was ~2.3x the policy gradient there and nearly orthogonal to it.
        self.critic_trains_trunk = critic_trains_trunk
        trunk = critic if value_mode == "separate" else policy
        hidden = trunk.config.get_text_config().hidden_size
        self.value_head = _value_head(hidden) if value_mode != "none" else None
        self._fused: dict[int, bool] = {}  # id(model) -> its logits are hidden @ lm_head.weight.T

    @property
    def has_values(self) -> bool:
        return self.value_head is not None

    # --- scoring -------------------------------------------------------------------------------------

    def score(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        response_ids: torch.Tensor,
        temperature: float = 1.0,
        response_mask: torch.Tensor | None = None,
        with_entropy: bool = True,
    ) -> TokenScores:
        """Log-probs, entropies (at ``temperature``) and values of the last ``R = response_ids.shape[1]``
        tokens of ``input_ids``, differentiable when grad is enabled. ``response_mask``: only its
        tokens are scored (the others' log-prob and entropy are 0); ``with_entropy=False``: none."""
        response_len = response_ids.shape[1]
        hidden, logp, ent = self._token_scores(
            self.policy, input_ids, attention_mask, response_ids, temperature, response_mask, with_entropy
        )
        if self.value_head is None:
            return TokenScores(logp, ent, None)
        if self.value_mode == "separate":
            features = _predicting(self._hidden(self.critic, input_ids, attention_mask), response_len)
        else:
            features = hidden if self.critic_trains_trunk else hidden.detach()
        values = self.value_head(features.to(self.value_head.weight.dtype)).squeeze(-1)
        return TokenScores(logp, ent, values.float())

    @torch.no_grad()
    def reference_logprobs(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_ids: torch.Tensor, temperature: float = 1.0,
        response_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The reference policy's log-probs of the response tokens, at ``temperature``."""
        with self.reference_policy() as reference:
            _, logp, _ = self._token_scores(
                reference, input_ids, attention_mask, response_ids, temperature, response_mask, False
            )
        return logp

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_len: int
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Raw logits ``[B, R, V]`` and values at the positions predicting the last ``response_len`` tokens.

        The full-vocabulary path, for inspection and for models the fused head cannot score; training
        uses ``score``.
        """
        logits = self._logits(self.policy, input_ids, attention_mask, response_len)
        if self.value_head is None:
            return logits, None
        trunk = self.critic if self.value_mode == "separate" else self.policy
        features = _predicting(self._hidden(trunk, input_ids, attention_mask), response_len)
        return logits, self.value_head(features.to(self.value_head.weight.dtype)).squeeze(-1).float()

    def _token_scores(
        self, model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_ids: torch.Tensor,
        temperature: float, response_mask: torch.Tensor | None = None, with_entropy: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(final hidden states, log-probs, entropies or None) at the response positions."""
        response_len = response_ids.shape[1]
        hidden = _predicting(self._hidden(model, input_ids, attention_mask), response_len)
        if self._is_fused(model, input_ids, attention_mask, hidden):
            weight = _unwrapped(model).get_output_embeddings().weight
            return hidden, *head_logprobs(
                hidden, weight, response_ids, temperature, mask=response_mask, with_entropy=with_entropy
            )
        logits = self._logits(model, input_ids, attention_mask, response_len)
        ent = entropy(logits, temperature) if with_entropy else None
        return hidden, token_logprobs(logits, response_ids, temperature), ent

    @staticmethod
    def _hidden(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The decoder's final (normalised) hidden states ``[B, L, H]``; adapters apply inside it."""
        decoder = _unwrapped(model).get_decoder()
        out = decoder(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids_for(attention_mask))
        return out.last_hidden_state

    @staticmethod
    def _logits(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_len: int) -> torch.Tensor:
        # logits_to_keep: only the response positions are projected onto the vocabulary. As index
        # tensor: the int form slices a non-contiguous view, on which matmul expands and copies the
        # head weight per row (see engines/hf.py).
        length = input_ids.shape[1]
        keep = torch.arange(length - response_len - 1, length, device=input_ids.device)
        out = model(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids_for(attention_mask),
            logits_to_keep=keep,
        )
        return _predicting(out.logits, response_len)

    def _is_fused(self, model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, hidden: torch.Tensor) -> bool:
        """Whether ``model``'s logits are exactly ``hidden @ lm_head.weight.T``: checked once, numerically."""
        key = id(model)
        if key not in self._fused:
            self._fused[key] = _check_fused_head(model, input_ids[:1], attention_mask[:1], hidden[:1])
        return self._fused[key]

    # --- the reference and checkpoints -----------------------------------------------------------------

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


@torch.no_grad()
def _check_fused_head(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, hidden: torch.Tensor) -> bool:
    head = _unwrapped(model).get_output_embeddings()
    same = isinstance(head, nn.Linear) and head.bias is None
    if same:
        expected = ActorCritic._logits(model, input_ids, attention_mask, hidden.shape[1]).float()
        fused = (hidden @ head.weight.to(hidden.dtype).t()).float()
        scale = expected.abs().max().clamp(min=1.0)
        tolerance = 2e-2 if hidden.dtype in (torch.bfloat16, torch.float16) else 1e-4
        same = bool(((fused - expected).abs().max() / scale) <= tolerance)
    if not same:
        warnings.warn(
            f"{type(_unwrapped(model)).__name__}'s logits are not hidden @ lm_head.weight.T; scoring through "
            "its full logits (more memory)",
            stacklevel=3,
        )
    return same
