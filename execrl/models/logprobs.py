"""Per-token log-probabilities and entropies of sampled tokens, at the sampling temperature.

The samples come from ``softmax(logits / T)``, so every log-probability that enters PPO's ratio, the
KL to the reference or the entropy bonus is taken from that distribution, not from the raw logits
(TRL and verl do the same). ``top_p < 1`` truncates the sampling distribution further; that part is
not modelled (as in TRL and verl), see docs/training.md.

``head_logprobs`` computes them from the final hidden states and the output projection a few hundred
tokens at a time, with a hand-written backward that recomputes each chunk's logits: the
``[batch, tokens, vocabulary]`` float32 logits (200 MB for 8 x 128 tokens of a 49k vocabulary, and as
much again for the softmax that autograd keeps) never exist at once.
"""

from __future__ import annotations

import torch

DEFAULT_CHUNK_TOKENS = 256


def token_logprobs(logits: torch.Tensor, token_ids: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """``log softmax(logits / T)`` at ``token_ids``, in float32."""
    logp = torch.log_softmax(logits.float() / temperature, dim=-1)
    return logp.gather(-1, token_ids.unsqueeze(-1)).squeeze(-1)


def entropy(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Entropy of ``softmax(logits / T)`` at each position."""
    logp = torch.log_softmax(logits.float() / temperature, dim=-1)
    return -(logp.exp() * logp).sum(-1)


def _at_least_fp32(values: torch.Tensor) -> torch.Tensor:
    return values.to(torch.promote_types(values.dtype, torch.float32))


def _chunk_stats(
    hidden: torch.Tensor, weight: torch.Tensor, tokens: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Scaled logits (float32), their logsumexp, the tokens' log-probs and the entropies of one chunk."""
    logits = _at_least_fp32(hidden @ weight.to(hidden.dtype).t()) / temperature
    lse = torch.logsumexp(logits, dim=-1)
    logp = logits.gather(-1, tokens.unsqueeze(-1)).squeeze(-1) - lse
    probs = torch.exp(logits - lse.unsqueeze(-1))
    ent = lse - (probs * logits).sum(-1)
    return logits, lse, logp, ent


class _HeadLogprobs(torch.autograd.Function):
    """``(logp, entropy)`` of ``tokens`` under ``softmax(hidden @ weight.T / T)``, chunked over tokens.

    With ``z`` the scaled logits and ``p = softmax(z)``: ``d logp_a / dz = onehot(a) - p`` and
    ``d H / dz = -p (log p + H)``; ``dz / d hidden = weight / T``.
    """

    @staticmethod
    def forward(ctx, hidden, weight, tokens, temperature, chunk):  # type: ignore[override]
        logp = torch.empty(tokens.shape[0], dtype=torch.promote_types(hidden.dtype, torch.float32), device=hidden.device)
        ent = torch.empty_like(logp)
        for start in range(0, tokens.shape[0], chunk):
            rows = slice(start, start + chunk)
            _, _, logp[rows], ent[rows] = _chunk_stats(hidden[rows], weight, tokens[rows], temperature)
        ctx.save_for_backward(hidden, weight, tokens, ent)
        ctx.temperature, ctx.chunk = temperature, chunk
        return logp, ent

    @staticmethod
    def backward(ctx, grad_logp, grad_ent):  # type: ignore[override]
        hidden, weight, tokens, ent = ctx.saved_tensors
        temperature, chunk = ctx.temperature, ctx.chunk
        grad_hidden = torch.zeros_like(hidden) if ctx.needs_input_grad[0] else None
        wide = torch.promote_types(weight.dtype, torch.float32)
        grad_weight = torch.zeros(weight.shape, dtype=wide, device=weight.device) if ctx.needs_input_grad[1] else None
        for start in range(0, tokens.shape[0], chunk):
            rows = slice(start, start + chunk)
            logits, lse, _, _ = _chunk_stats(hidden[rows], weight, tokens[rows], temperature)
            probs = torch.exp(logits - lse.unsqueeze(-1))
            grad_z = torch.zeros_like(logits)
            if grad_logp is not None:
                grad_z -= probs * grad_logp[rows].unsqueeze(-1)
                grad_z.scatter_add_(-1, tokens[rows].unsqueeze(-1), grad_logp[rows].unsqueeze(-1))
            if grad_ent is not None:
                log_probs = logits - lse.unsqueeze(-1)
                grad_z -= probs * (log_probs + ent[rows].unsqueeze(-1)) * grad_ent[rows].unsqueeze(-1)
            grad_z /= temperature
            if grad_hidden is not None:
                grad_hidden[rows] = (grad_z.to(hidden.dtype) @ weight.to(hidden.dtype)).to(hidden.dtype)
            if grad_weight is not None:
                grad_weight += grad_z.t() @ hidden[rows].to(wide)
        return grad_hidden, None if grad_weight is None else grad_weight.to(weight.dtype), None, None, None


def head_logprobs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    tokens: torch.Tensor,
    temperature: float = 1.0,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities and entropies ``[B, R]`` of ``tokens [B, R]`` from final hidden states
    ``[B, R, H]`` and an output projection ``weight [V, H]`` (no bias), differentiable in both."""
    batch, length = tokens.shape
    # autocast would re-cast inside the chunks; the dtypes are handled explicitly there.
    with torch.autocast(device_type=hidden.device.type, enabled=False):
        logp, ent = _HeadLogprobs.apply(
            hidden.reshape(batch * length, -1), weight, tokens.reshape(-1), float(temperature), chunk_tokens
        )
    return logp.view(batch, length), ent.view(batch, length)
