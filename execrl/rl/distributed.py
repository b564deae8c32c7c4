"""Data-parallel training over the processes that ``accelerate launch`` (or torchrun) starts.

Every rank builds the same model from the same seed, takes its own share of each step's prompts, and
averages its gradients with the other ranks' before each optimiser step, so the trainable weights stay
identical everywhere (``dist/param_spread`` in the metrics shows it). Rank 0 alone writes the run
directory. A single process gets ``Ranks()``, whose operations are no-ops.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as dist

T = TypeVar("T")


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world_size: int = 1
    device: str = "cpu"  # where this rank's tensors (and collectives) live: "cpu", "cuda:1", ...

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's contiguous share of ``items``, whose length is a multiple of ``world_size``."""
        size = len(items) // self.world_size
        return list(items[self.rank * size : (self.rank + 1) * size])

    def all_true(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on every rank."""
        if not self.distributed:
            return flag
        value = torch.tensor([float(flag)], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return bool(value.item())

    def average_gradients(self, params: Sequence[torch.Tensor]) -> None:
        """Replace each parameter's gradient with its mean over the ranks (one all-reduce per dtype)."""
        if not self.distributed:
            return
        by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
        for param in params:
            if param.grad is not None:  # the same parameters have gradients on every rank
                by_dtype.setdefault(param.grad.dtype, []).append(param.grad)
        for grads in by_dtype.values():
            flat = torch.cat([g.reshape(-1) for g in grads])
            dist.all_reduce(flat)
            flat /= self.world_size
            for grad, part in zip(grads, flat.split([g.numel() for g in grads])):
                grad.copy_(part.view_as(grad))

    def gather(self, values: Sequence[float]) -> list[float]:
        """Every rank's ``values`` (the same count on each), concatenated in rank order."""
        if not self.distributed:
            return list(values)
        local = torch.tensor(values, dtype=torch.float64, device=self.device)
        parts = [torch.empty_like(local) for _ in range(self.world_size)]
        dist.all_gather(parts, local)
        return torch.cat(parts).tolist()

    def mean(self, value: float) -> float:
        return sum(self.gather([value])) / self.world_size

    def mean_record(self, record: dict[str, float]) -> dict[str, float]:
        """Each metric averaged over the ranks (every rank's record has the same keys)."""
        if not self.distributed:
            return record
        keys = sorted(record)
        values = torch.tensor([record[k] for k in keys], dtype=torch.float64, device=self.device)
        dist.all_reduce(values)
        means = dict(zip(keys, (values / self.world_size).tolist()))
        return {key: means[key] for key in record}

    def finish(self) -> None:
        """Wait until every rank is done: after this no rank talks to another (see ``end_launched_rank``)."""
        if self.distributed and dist.is_initialized():
            dist.barrier()

    def spread(self, value: float) -> float:
        """The largest minus the smallest of the ranks' ``value``."""
        everyone = self.gather([value])
        return max(everyone) - min(everyone)


SINGLE = Ranks()  # a process on its own


def is_main_process() -> bool:
    """True unless a launcher started this process as a rank other than 0 (set before any process group)."""
    return int(os.environ.get("RANK", "0")) == 0


def end_launched_rank(code: int) -> None:
    """End this process with ``code`` now if a launcher started it as one of several ranks; else return.

    A rank's work is written and its output flushed by then. What is skipped is the interpreter's
    finalization, where a rank of a finished, successful launch sometimes died with SIGABRT
    ("terminate called without an active exception"; most likely the gloo group's C++ threads torn
    down under a finalizing interpreter, as in pytorch/pytorch#190489), so that the launcher reported
    the whole run as failed: twice in full test-suite runs, once after destroy_process_group had been
    called. Sandbox workers end with their parent (bubblewrap's --die-with-parent, or end of input).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


def launched_ranks(cpu: bool) -> Ranks:
    """This process's rank; joins the process group (through accelerate) when a launcher started several.

    ``cpu``: the ranks train on the CPU and talk over gloo, even where GPUs are visible.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return SINGLE
    from accelerate import PartialState

    state = PartialState(cpu=cpu)
    return Ranks(state.process_index, state.num_processes, str(state.device))


def parameter_checksum(params: Sequence[torch.Tensor]) -> float:
    """The sum of all the weights in float64: equal on ranks that hold equal weights."""
    return float(sum(p.detach().double().sum() for p in params))


def rank_seed(seed: int, rank: int, step: int) -> int:
    """A seed of its own for each rank at each (re)start, so ranks sample different responses."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1)[0])
