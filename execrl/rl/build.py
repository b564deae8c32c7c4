"""Building the actor-critic and picking the device and precision from the config."""

from __future__ import annotations

import contextlib
import functools
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from execrl.errors import ExecrlError
from execrl.models import ActorCritic, add_lora, load_causal_lm, load_tokenizer
from execrl.rl.config import ModelConfig, TrainConfig
from execrl.rl.distributed import SINGLE, Ranks, launched_ranks
from execrl.rl.rollout import Autocast


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    autocast: Autocast
    ranks: Ranks = SINGLE


def resolve_runtime(config: TrainConfig) -> Runtime:
    cuda = torch.cuda.is_available()
    if config.device == "cuda" and not cuda:
        raise ExecrlError(
            "the config asks for device: cuda but no CUDA GPU is visible to torch; "
            "use --set device=cpu (or device: auto) to train on the CPU"
        )
    device = torch.device("cuda" if config.device == "cuda" or (config.device == "auto" and cuda) else "cpu")
    ranks = launched_ranks(cpu=device.type == "cpu")
    if ranks.distributed:
        device = torch.device(ranks.device)  # each rank on its own GPU
    bf16 = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    if bf16 and device.type != "cuda":
        warnings.warn("precision bf16 needs a CUDA device; training in fp32 on the CPU", stacklevel=2)
        bf16 = False
    if bf16:
        return Runtime(device, functools.partial(torch.autocast, device_type="cuda", dtype=torch.bfloat16), ranks)
    return Runtime(device, contextlib.nullcontext, ranks)


def build_actor_critic(config: ModelConfig, device: torch.device) -> tuple[ActorCritic, Any]:
    """The tokenizer and the actor-critic (policy with LoRA, value head, reference) on ``device``."""
    tokenizer = load_tokenizer(config.name)
    policy = load_causal_lm(config.name)
    if config.lora.enabled:
        policy = add_lora(policy, config.lora)
    critic = None
    if config.value == "separate":
        critic = load_causal_lm(config.critic or config.name)
        critic = add_lora(critic, config.lora) if config.lora.enabled else critic
    return ActorCritic(policy, config.value, critic).to(device), tokenizer
