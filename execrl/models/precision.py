"""Which floating-point format the model computes in: ``precision: auto | fp32 | bf16``.

bf16 halves the bytes read per decoded token (decoding is memory-bound) and, on CPUs with AVX512-BF16
or AMX, runs matmuls several times faster than fp32 (7.6x measured on the development machine). So
``auto`` picks bf16 wherever the hardware computes it natively: a CUDA GPU that supports it, or such a
CPU; elsewhere bf16 would be emulated, slower than fp32, and ``auto`` keeps fp32.

Only the frozen weights are stored in bf16. Trainable tensors (LoRA adapters, the value head, a fully
fine-tuned model's weights) and the optimiser state stay fp32 master copies; the forward passes run
under autocast, so gradients of bf16 matmuls land in fp32 parameters. Log-probabilities and
entropies are always reduced in fp32.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

Precision = Literal["auto", "fp32", "bf16"]
Autocast = Callable[[], contextlib.AbstractContextManager[Any]]

_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 matmuls natively (AVX512-BF16 or AMX-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8").split()
    except OSError:
        flags = []
    if any(flag in flags for flag in _BF16_CPU_FLAGS):
        return True
    # Not Linux, or a restricted /proc: ask torch (private API, hence the guard).
    probe = getattr(getattr(torch._C, "_cpu", None), "_is_avx512_bf16_supported", None)
    return bool(probe()) if callable(probe) else False


def native_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


@dataclass(frozen=True)
class ComputePrecision:
    """The resolved precision: the frozen weights' dtype and the autocast context of every forward pass."""

    name: Literal["fp32", "bf16"]
    device: torch.device
    reason: str  # why this one was chosen, for the run log

    @property
    def dtype(self) -> torch.dtype:
        return torch.bfloat16 if self.name == "bf16" else torch.float32

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.name == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)


def resolve_precision(requested: Precision, device: torch.device) -> ComputePrecision:
    """``auto``: bf16 where ``device`` computes it natively, else fp32; ``fp32``/``bf16`` as asked."""
    if requested == "fp32":
        return ComputePrecision("fp32", device, "precision: fp32")
    if requested == "bf16":
        note = "" if native_bf16(device) else " (emulated on this device: expect it slower than fp32)"
        return ComputePrecision("bf16", device, "precision: bf16" + note)
    if native_bf16(device):
        what = "CUDA bf16" if device.type == "cuda" else "a CPU with AVX512-BF16/AMX"
        return ComputePrecision("bf16", device, f"precision: auto -> bf16 ({what})")
    return ComputePrecision("fp32", device, "precision: auto -> fp32 (no native bf16 on this device)")
