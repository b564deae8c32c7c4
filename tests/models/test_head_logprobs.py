"""The chunked output-head scores against plain autograd over the full logits: values and gradients."""

from __future__ import annotations

import pytest
import torch

from execrl.models.logprobs import head_logprobs


def _reference(hidden, weight, tokens, temperature):
    log_probs = torch.log_softmax((hidden @ weight.t()) / temperature, dim=-1)
    logp = log_probs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return logp, -(log_probs.exp() * log_probs).sum(-1)


def _inputs():
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(3, 5, 8, generator=generator, dtype=torch.float64)
    weight = torch.randn(11, 8, generator=generator, dtype=torch.float64)
    tokens = torch.randint(0, 11, (3, 5), generator=generator)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]])
    return hidden, weight, tokens, mask


@pytest.mark.parametrize("temperature", [0.7, 1.0])
@pytest.mark.parametrize("entropy_weight", [0.0, 0.3])
def test_values_and_gradients_match_autograd_over_full_logits(temperature: float, entropy_weight: float) -> None:
    hidden, weight, tokens, mask = _inputs()
    g = torch.Generator().manual_seed(1)
    grad_logp, grad_ent = torch.randn(3, 5, generator=g, dtype=torch.float64), torch.randn(3, 5, generator=g, dtype=torch.float64)
    results = []
    for fused in (True, False):
        h, w = hidden.clone().requires_grad_(), weight.clone().requires_grad_()
        if fused:
            logp, ent = head_logprobs(h, w, tokens, temperature, chunk_tokens=4, mask=mask)
        else:
            logp, ent = _reference(h, w, tokens, temperature)
        loss = (logp * grad_logp * mask).sum()
        if entropy_weight:  # without it the entropy does not reach the loss, and its backward is skipped
            loss = loss + entropy_weight * (ent * grad_ent * mask).sum()
        loss.backward()
        results.append((logp * mask, ent * mask, h.grad, w.grad))
    for fused, plain in zip(*results):
        assert torch.allclose(fused, plain, atol=1e-10)


def test_unmasked_positions_score_zero_and_entropy_can_be_skipped() -> None:
    hidden, weight, tokens, mask = _inputs()
    logp, ent = head_logprobs(hidden, weight, tokens, 0.7, mask=mask, with_entropy=False)
    assert ent is None
    assert torch.equal(logp[mask == 0], torch.zeros(int((mask == 0).sum()), dtype=logp.dtype))
    full, _ = head_logprobs(hidden, weight, tokens, 0.7)
    assert torch.allclose(logp[mask == 1], full[mask == 1], atol=1e-12)
