"""Per-token log-probabilities and entropies of the response part of a prompt+response forward pass."""

from __future__ import annotations

import torch


def response_logits(logits: torch.Tensor, prompt_len: int, response_len: int) -> torch.Tensor:
    """The logits that predicted each response token: positions ``prompt_len - 1`` to the second-last."""
    return logits[:, prompt_len - 1 : prompt_len - 1 + response_len]


def token_logprobs(logits: torch.Tensor, token_ids: torch.Tensor) -> torch.Tensor:
    """``log p(token)`` for each position, computed in float32 for stability."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return logp.gather(-1, token_ids.unsqueeze(-1)).squeeze(-1)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the next-token distribution at each position."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1)
