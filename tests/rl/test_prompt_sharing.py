"""Sharing a prompt's pass among its samples changes the work, never the numbers: log-probs, entropies,
values, reference log-probs and the update's gradients are those of one full pass per row."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from execrl.models import (
    ActorCritic,
    LoraSettings,
    SharedPrompts,
    add_lora,
    left_pad,
    load_causal_lm,
    load_tokenizer,
)
from execrl.rl.rollout import micro_batches, score_rows, shuffled_rows

SAMPLES = 3


@pytest.fixture
def batch(tiny_model_dir: Path):
    """Two prompts of different lengths (so left padding), three samples each with responses of
    different lengths (right padding), as a rollout lays them out."""
    tokenizer = load_tokenizer(str(tiny_model_dir))
    prompts = [tokenizer("def add(a, b):")["input_ids"], tokenizer("Write a function that sorts a list.")["input_ids"]]
    prompt_ids, prompt_mask = left_pad([p for p in prompts for _ in range(SAMPLES)], tokenizer.pad_token_id, torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    width = 7
    response_ids = torch.randint(3, len(tokenizer), (len(prompt_ids), width), generator=generator)
    lengths = torch.tensor([7, 2, 5, 4, 7, 1])
    response_mask = (torch.arange(width) < lengths[:, None]).long()
    response_ids = response_ids.masked_fill(response_mask == 0, tokenizer.pad_token_id)
    input_ids = torch.cat([prompt_ids, response_ids], 1)
    attention = torch.cat([prompt_mask, response_mask], 1)
    groups = torch.arange(len(prompts)).repeat_interleave(SAMPLES)
    return input_ids, attention, prompt_ids.shape[1], response_ids, response_mask.float(), groups


@pytest.fixture
def actor(tiny_model_dir: Path) -> ActorCritic:
    actor = ActorCritic(add_lora(load_causal_lm(str(tiny_model_dir)), LoraSettings(rank=4)), critic_trains_trunk=True)
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in actor.named_parameters():
            if "lora_B" in name or "value_head" in name:
                p.normal_(std=0.5)
    return actor


def _scores(actor: ActorCritic, batch, rows: torch.Tensor, share: bool):
    input_ids, attention, prompt_len, response_ids, mask, groups = batch
    groups = groups if share else None
    scored = score_rows(actor, input_ids, attention, prompt_len, response_ids, mask, rows, 0.7, groups=groups)
    ref = score_rows(actor, input_ids, attention, prompt_len, response_ids, mask, rows, 0.7, reference=True, groups=groups)
    return scored, ref.logp


@pytest.mark.parametrize("rows", [[0, 1, 2, 3, 4, 5], [4, 1, 0, 5], [2, 3]])
def test_shared_prompt_scores_equal_one_pass_per_row(actor: ActorCritic, batch, rows: list[int]) -> None:
    rows_t, mask = torch.tensor(rows), batch[4][rows]
    with torch.no_grad():
        shared, shared_ref = _scores(actor, batch, rows_t, share=True)
        plain, plain_ref = _scores(actor, batch, rows_t, share=False)
    assert torch.allclose(shared.logp * mask, plain.logp * mask, atol=1e-5)
    assert torch.allclose(shared.entropy * mask, plain.entropy * mask, atol=1e-5)
    assert torch.allclose(shared.values * mask, plain.values * mask, atol=1e-5)
    assert torch.allclose(shared_ref * mask, plain_ref * mask, atol=1e-5)
    # the reference differs from the policy, so the comparison above is not of two identical passes
    assert not torch.allclose(shared.logp * mask, shared_ref * mask, atol=1e-3)


def test_shared_prompt_gradients_equal_one_pass_per_row(actor: ActorCritic, batch) -> None:
    rows, mask = torch.arange(6), batch[4]
    weights = torch.randn(mask.shape, generator=torch.Generator().manual_seed(2))
    grads = []
    for share in (True, False):
        actor.zero_grad(set_to_none=True)
        scored, _ = _scores(actor, batch, rows, share)
        ((scored.logp * weights * mask).sum() + (scored.values * mask).sum()).backward()
        grads.append({n: p.grad.clone() for n, p in actor.named_parameters() if p.grad is not None})
    shared, plain = grads
    assert shared.keys() == plain.keys() and any("lora_A" in n for n in shared)
    for name in plain:  # equal up to float32 summation order
        scale = plain[name].abs().max()
        assert float((shared[name] - plain[name]).abs().max()) <= 1e-5 * float(scale) + 1e-6, name


def test_rows_said_to_share_a_prompt_must_hold_it(batch) -> None:
    input_ids, _, prompt_len, *_ = batch
    with pytest.raises(ValueError, match="different prompt tokens"):
        SharedPrompts.of(input_ids, prompt_len, torch.zeros(len(input_ids), dtype=torch.long))
    assert SharedPrompts.of(input_ids, prompt_len, torch.arange(len(input_ids))) is None  # nothing to share


def test_passes_keep_a_prompts_samples_together() -> None:
    groups = torch.arange(4).repeat_interleave(4)
    lengths = torch.randint(10, 50, (16,), generator=torch.Generator().manual_seed(0))
    passes = micro_batches(lengths, torch.arange(16), 4, groups)
    assert sorted(torch.cat(passes).tolist()) == list(range(16))
    assert all(len(set(groups[p].tolist())) == 1 for p in passes)
    for _ in range(5):
        order = shuffled_rows(groups, by_group=True)
        assert sorted(order.tolist()) == list(range(16))
        assert all(len(set(groups[order[i : i + 4]].tolist())) == 1 for i in range(0, 16, 4))


def test_a_checkpointed_update_falls_back_to_one_pass_per_row(actor: ActorCritic, batch) -> None:
    # gradient checkpointing drops the KV cache in training: sharing must not rely on it there
    actor.policy.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    actor.train()
    rows, mask = torch.arange(6), batch[4]
    shared, _ = _scores(actor, batch, rows, share=True)
    plain, _ = _scores(actor, batch, rows, share=False)
    assert torch.allclose(shared.logp * mask, plain.logp * mask, atol=1e-5)
