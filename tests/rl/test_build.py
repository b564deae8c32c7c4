"""What the trainer builds: which tensors are bf16 and which stay fp32, and gradient checkpointing."""

from __future__ import annotations

from pathlib import Path

import torch

from execrl.models.precision import resolve_precision
from execrl.rl.build import Runtime, build_actor_critic
from execrl.rl.config import ModelConfig, TrainConfig
from execrl.rl.trainer import _optimizer

CPU = torch.device("cpu")


def build(model_dir: Path, precision: str = "fp32", **model: object):
    config = ModelConfig.model_validate({"name": str(model_dir), "lora": {"rank": 4}, **model})
    return build_actor_critic(config, Runtime(CPU, resolve_precision(precision, CPU)))  # type: ignore[arg-type]


def test_bf16_stores_frozen_weights_in_bf16_and_trains_fp32_masters(tiny_model_dir: Path) -> None:
    actor, tokenizer = build(tiny_model_dir, "bf16")
    frozen = {p.dtype for p in actor.policy.parameters() if not p.requires_grad}
    trainable = {n: p.dtype for n, p in actor.named_parameters() if p.requires_grad}
    assert frozen == {torch.bfloat16}
    assert trainable and set(trainable.values()) == {torch.float32}
    assert any("lora_" in n for n in trainable) and any("value_head" in n for n in trainable)

    optimizer = _optimizer(actor, TrainConfig.model_validate({"model": {"name": str(tiny_model_dir)}}))
    ids = torch.tensor([tokenizer("def add(a, b): return a + b")["input_ids"]])
    with resolve_precision("bf16", CPU).autocast():
        scores = actor.score(ids, torch.ones_like(ids), ids[:, -4:], 0.7)
    (scores.logp.sum() + scores.values.sum()).backward()
    optimizer.step()
    states = [t for state in optimizer.state.values() for t in state.values() if torch.is_tensor(t) and t.dim() > 0]
    assert states and {t.dtype for t in states} == {torch.float32}
    assert scores.logp.dtype == torch.float32


def test_gradient_checkpointing_gives_the_same_gradients(tiny_model_dir: Path) -> None:
    grads = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        actor, tokenizer = build(tiny_model_dir, gradient_checkpointing=checkpointing)
        with torch.no_grad():
            for name, p in actor.named_parameters():
                if "lora_B" in name:
                    p.normal_(std=0.1)
        actor.train()
        ids = torch.tensor([tokenizer("def add(a, b): return a + b")["input_ids"]])
        actor.score(ids, torch.ones_like(ids), ids[:, -4:], 0.7).logp.sum().backward()
        grads.append({n: p.grad for n, p in actor.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and any("lora_A" in n for n in grads[0])
    assert all(torch.allclose(grads[0][n], grads[1][n], atol=1e-6) for n in grads[0])
