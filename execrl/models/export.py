"""Exporting a trained policy: the LoRA adapter alone, or the base model with the adapter merged in."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


def _atomic_dir(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))


def _publish(staging: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    os.replace(staging, target)


def save_adapter(policy: Any, tokenizer: Any, target: str | os.PathLike[str]) -> Path:
    """The adapter in peft's format (``PeftModel.from_pretrained(base, target)`` loads it) and the tokenizer."""
    return _save(policy, tokenizer, Path(target))


def save_merged(policy: Any, tokenizer: Any, target: str | os.PathLike[str]) -> Path:
    """A plain transformers model (``AutoModelForCausalLM.from_pretrained(target)``) with the adapter merged.

    ``policy`` is merged in place and returned to the caller unwrapped; pass a copy to keep training it.
    """
    merged = policy.merge_and_unload() if hasattr(policy, "merge_and_unload") else policy
    return _save(merged, tokenizer, Path(target))


def _save(model: Any, tokenizer: Any, target: Path) -> Path:
    """Write into a staging directory, then swap it in: a crash never leaves a half-written export."""
    staging = _atomic_dir(target)
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        _publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
