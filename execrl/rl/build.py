"""Building the actor-critic and its rollout engine, and picking the device and precision from the config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from execrl.engines import EngineContext, RolloutEngine, build_engine
from execrl.errors import ExecrlError
from execrl.models import ActorCritic, add_lora, load_causal_lm, load_tokenizer
from execrl.models.precision import ComputePrecision, resolve_precision
from execrl.rl.config import ModelConfig, TrainConfig
from execrl.rl.distributed import SINGLE, Ranks, launched_ranks


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    precision: ComputePrecision
    ranks: Ranks = SINGLE

    def autocast(self) -> Any:
        return self.precision.autocast()


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
    return Runtime(device, resolve_precision(config.precision, device), ranks)


def _load(name: str, lora: Any, precision: ComputePrecision, checkpointing: bool) -> Any:
    # Frozen weights are stored in the compute dtype; what trains stays fp32 (peft keeps adapters of a
    # bf16 base in fp32, and full fine-tuning keeps fp32 master weights under autocast).
    dtype = precision.dtype if lora.enabled else torch.float32
    model = load_causal_lm(name, dtype=dtype)
    if checkpointing:
        # use_reentrant=False: frozen base weights with trainable adapters still get their gradients
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return add_lora(model, lora) if lora.enabled else model


def build_actor_critic(config: ModelConfig, runtime: Runtime) -> tuple[ActorCritic, Any]:
    """The tokenizer and the actor-critic (policy with LoRA, value head, reference) on the runtime's device."""
    tokenizer = load_tokenizer(config.name)
    policy = _load(config.name, config.lora, runtime.precision, config.gradient_checkpointing)
    critic = None
    if config.value == "separate":
        critic = _load(config.critic or config.name, config.lora, runtime.precision, config.gradient_checkpointing)
    model = ActorCritic(policy, config.value, critic, critic_trains_trunk=config.critic_trains_trunk)
    return model.to(runtime.device), tokenizer


def build_rollout_engine(config: TrainConfig, runtime: Runtime, tokenizer: Any) -> RolloutEngine:
    context = EngineContext(tokenizer, runtime.device, runtime.precision, config.seed)
    return build_engine(config.generation.backend, context, config.generation)
