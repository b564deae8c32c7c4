"""Checkpoints that a crash can never leave half-written, and exact resumption from them.

A checkpoint is a directory ``checkpoints/step-000012`` holding the trainable weights (adapter and
value head), the optimiser state, every random generator's state (Python, NumPy, torch, CUDA) and
the trainer's state (step, data position, KL coefficient, reward normalisation, metrics so far).
It is written to a temporary directory, flushed to disk, then renamed into place: a directory named
``step-*`` is always complete, and ``kill -9`` loses at most the steps since the last one.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from execrl.errors import ExecrlError
from execrl.models import ActorCritic

PREFIX = "step-"


@dataclass
class TrainerState:
    step: int = 0
    data_position: int = 0
    kl_coef: float = 0.0
    reward_stats: dict[str, dict[str, float]] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)  # one metrics record per step so far


def checkpoint_dir(run_dir: Path) -> Path:
    return run_dir / "checkpoints"


def _step_of(path: Path) -> int | None:
    suffix = path.name.removeprefix(PREFIX)
    return int(suffix) if path.name.startswith(PREFIX) and suffix.isdigit() else None


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first (temporary directories of interrupted writes are ignored)."""
    root = checkpoint_dir(run_dir)
    found = [p for p in root.iterdir() if p.is_dir() and _step_of(p) is not None] if root.is_dir() else []
    return sorted(found, key=lambda p: _step_of(p) or 0)


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def _rng_state() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    version, keys, gauss = random.getstate()
    np_state = np.random.get_state()
    plain = {
        "python": [version, list(keys), gauss],
        "numpy": [np_state[0], np_state[1].tolist(), *[float(x) if isinstance(x, float) else int(x) for x in np_state[2:]]],
    }
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors.update({f"cuda{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    return plain, tensors


def _restore_rng(plain: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    version, keys, gauss = plain["python"]
    random.setstate((version, tuple(keys), gauss))
    name, keys, *rest = plain["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(tensors["torch"])
    cuda = [tensors[k] for k in sorted(t for t in tensors if t.startswith("cuda"))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


def _fsync_tree(directory: Path) -> None:
    for path in [*directory.iterdir(), directory]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_checkpoint(
    run_dir: Path, model: ActorCritic, optimizer: torch.optim.Optimizer, state: TrainerState, keep_last: int
) -> Path:
    root = checkpoint_dir(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{PREFIX}{state.step:06d}"
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    try:
        weights = {name: t.detach().cpu().contiguous() for name, t in model.trainable_state().items()}
        save_file(weights, str(staging / "trainable.safetensors"))
        torch.save(optimizer.state_dict(), staging / "optimizer.pt")
        plain, tensors = _rng_state()
        save_file(tensors, str(staging / "rng.safetensors"))
        (staging / "rng.json").write_text(json.dumps(plain))
        (staging / "state.json").write_text(json.dumps(asdict(state)))
        _fsync_tree(staging)
        if target.exists():  # a step re-run after resuming from an earlier checkpoint
            shutil.rmtree(target)
        os.replace(staging, target)
        _fsync_tree(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for old in list_checkpoints(run_dir)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def load_checkpoint(path: Path, model: ActorCritic, optimizer: torch.optim.Optimizer) -> TrainerState:
    """Restore weights, optimiser and random generators from ``path``; returns the trainer's state."""
    try:
        device = next(model.parameters()).device
        model.load_trainable_state(load_file(str(path / "trainable.safetensors"), device=str(device)))
        optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location=device, weights_only=True))
        _restore_rng(json.loads((path / "rng.json").read_text()), load_file(str(path / "rng.safetensors")))
        return TrainerState(**json.loads((path / "state.json").read_text()))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise ExecrlError(
            f"cannot resume from {path}: {exc}; the checkpoint must come from a run with the same model config"
        ) from exc
