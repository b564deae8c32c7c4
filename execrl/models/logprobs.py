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


def _chunk_logits(hidden: torch.Tensor, weight: torch.Tensor, temperature: float) -> torch.Tensor:
    """One chunk's logits over the vocabulary at ``temperature``, in float32 at least."""
    logits = _at_least_fp32(hidden @ weight.to(hidden.dtype).t())
    return logits.div_(temperature) if temperature != 1.0 else logits


class _HeadLogprobs(torch.autograd.Function):
    """``(logp, entropy)`` of ``tokens`` under ``softmax(hidden @ weight.T / T)``, chunked over tokens.

    With ``z`` the scaled logits and ``p = softmax(z)``: ``d logp_a / dz = onehot(a) - p`` and
    ``d H / dz = -p (log p + H)``; ``dz / d hidden = weight / T``. The work is over ``[chunk,
    vocabulary]`` tensors, so each chunk uses torch's fused (log-)softmax kernels, keeps the ``1 / T``
    factors on the small side of each product, and skips the entropy's part of the backward when the
    entropy does not reach the loss (its gradient is then None, not zeros).
    """

    @staticmethod
    def forward(ctx, hidden, weight, tokens, temperature, chunk, with_entropy):  # type: ignore[override]
        ctx.set_materialize_grads(False)
        logp = torch.empty(tokens.shape[0], dtype=torch.promote_types(hidden.dtype, torch.float32), device=hidden.device)
        ent = torch.zeros_like(logp)
        for start in range(0, tokens.shape[0], chunk):
            rows = slice(start, start + chunk)
            log_probs = torch.log_softmax(_chunk_logits(hidden[rows], weight, temperature), dim=-1)
            logp[rows] = log_probs.gather(-1, tokens[rows].unsqueeze(-1)).squeeze(-1)
            if with_entropy:  # H = -sum p log p, as one dot product per row
                ent[rows] = -torch.linalg.vecdot(log_probs.exp(), log_probs)
        if not with_entropy:
            ctx.mark_non_differentiable(ent)
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
        if (grad_logp is None and grad_ent is None) or (grad_hidden is None and grad_weight is None):
            return grad_hidden, grad_weight, None, None, None, None
        for start in range(0, tokens.shape[0], chunk):
            rows = slice(start, start + chunk)
            logits = _chunk_logits(hidden[rows], weight, temperature)
            if grad_ent is not None:
                log_probs = torch.log_softmax(logits, dim=-1)
                probs = log_probs.exp()
                # dH/dz = -p (log p + H), times the entropy's gradient
                grad_z = (log_probs.add_(ent[rows].unsqueeze(-1))).mul_(probs).mul_(-grad_ent[rows].unsqueeze(-1))
                if grad_logp is not None:
                    grad_z.sub_(probs.mul_(grad_logp[rows].unsqueeze(-1)))
            else:
                grad_z = torch.softmax(logits, dim=-1).mul_(-grad_logp[rows].unsqueeze(-1))
            if grad_logp is not None:
                grad_z.scatter_add_(-1, tokens[rows].unsqueeze(-1), grad_logp[rows].unsqueeze(-1))
            if grad_hidden is not None:
                grad_hidden[rows] = ((grad_z.to(hidden.dtype) @ weight.to(hidden.dtype)) / temperature).to(hidden.dtype)
            if grad_weight is not None:
                grad_weight += grad_z.t() @ (hidden[rows].to(wide) / temperature)
        return grad_hidden, None if grad_weight is None else grad_weight.to(weight.dtype), None, None, None, None


def head_logprobs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    tokens: torch.Tensor,
    temperature: float = 1.0,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    mask: torch.Tensor | None = None,
    with_entropy: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probabilities and entropies ``[B, R]`` of ``tokens [B, R]`` from final hidden states
    ``[B, R, H]`` and an output projection ``weight [V, H]`` (no bias), differentiable in both.

    ``mask`` (``[B, R]``, nonzero on real tokens): only those positions are projected onto the
    vocabulary, the others get 0. ``with_entropy=False``: no entropy (None), for passes that only
    need the log-probs."""
    batch, length = tokens.shape
    flat_hidden, flat_tokens = hidden.reshape(batch * length, -1), tokens.reshape(-1)
    where = None if mask is None else torch.nonzero(mask.reshape(-1)).squeeze(1)
    if where is not None:
        flat_hidden, flat_tokens = flat_hidden[where], flat_tokens[where]
    # autocast would re-cast inside the chunks; the dtypes are handled explicitly there.
    with torch.autocast(device_type=hidden.device.type, enabled=False):
        logp, ent = _HeadLogprobs.apply(flat_hidden, weight, flat_tokens, float(temperature), chunk_tokens, with_entropy)

    def full(values: torch.Tensor) -> torch.Tensor:
        if where is None:
            return values.view(batch, length)
        return values.new_zeros(batch * length).index_copy(0, where, values).view(batch, length)

    return full(logp), full(ent) if with_entropy else None
