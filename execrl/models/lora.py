"""LoRA adapters (peft): the trained policy is the base model plus an adapter, the reference is the base."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


class LoraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True  # False: full fine-tuning, with a frozen copy of the model as the reference
    rank: int = Field(16, gt=0)
    alpha: float = Field(32.0, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)  # 0 keeps PPO's ratio exactly 1 on the first epoch
    target_modules: tuple[str, ...] = DEFAULT_TARGETS


def add_lora(model: Any, settings: LoraSettings, adapter_name: str = "default") -> Any:
    """``model`` wrapped in a peft model with a fresh, trainable adapter (base weights frozen)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config, adapter_name=adapter_name)
