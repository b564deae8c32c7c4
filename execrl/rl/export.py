"""Exporting a run's latest checkpoint: the LoRA adapter, or a merged model ``transformers`` loads directly."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from execrl.errors import ExecrlError
from execrl.models import save_adapter, save_merged
from execrl.models.precision import resolve_precision
from execrl.rl.build import Runtime, build_actor_critic
from execrl.rl.checkpoints import latest_checkpoint
from execrl.rl.config import load_config


def export_run(run_dir: Path, target: Path, merged: bool = True) -> Path:
    """Write ``target/adapter`` (when the run used LoRA) and, if ``merged``, ``target/merged``."""
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None:
        raise ExecrlError(f"{run_dir} has no checkpoint to export (expected {run_dir}/checkpoints/step-*)")
    config = load_config(run_dir / "config.yaml")
    cpu = torch.device("cpu")  # exported in fp32, whatever the run computed in
    model, tokenizer = build_actor_critic(config.model, Runtime(cpu, resolve_precision("fp32", cpu)))
    model.load_trainable_state(load_file(str(checkpoint / "trainable.safetensors")))
    if model.uses_adapter:
        save_adapter(model.policy, tokenizer, target / "adapter")
    if merged:
        save_merged(model.policy, tokenizer, target / "merged")
    return target
