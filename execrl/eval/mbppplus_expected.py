"""MBPP+ expected outputs: the canonical solutions run in the sandbox, cached on disk.

EvalPlus stores no expected outputs; it runs ``prompt + canonical_solution`` on every input and
records each call's time, which sets the candidates' time limits. Values come back as plain data
and are cached with ``marshal`` (plain data only, nothing executable), one file per task, under
``<cache>/mbppplus-expected/<dataset sha256>-m<marshal version>/``.
"""

from __future__ import annotations

import marshal
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execrl.cache import cache_dir
from execrl.errors import ExecrlError
from execrl.eval.mbppplus_jobs import SPLITS, inputs_of, is_digest, split_job
from execrl.eval.scheduling import run_longest_first
from execrl.sandbox import JobResult, Sandbox, SandboxBackend, Status
from execrl.tasks.mbppplus import MbppPlusDataset, task_number
from execrl.tasks.types import PlusTask

# Bump when the way expected outputs are computed changes, so that old caches are not read.
CACHE_VERSION = 5  # 4: PYTHONHASHSEED=0 really set (-I ignored it); 5: pickle digests, numbers included


@dataclass(frozen=True, eq=False)
class ExpectedOutputs:
    """One task's expected outputs and the canonical solution's time per input, for each split."""

    base: tuple[Any, ...]
    base_time: tuple[float, ...]
    plus: tuple[Any, ...]
    plus_time: tuple[float, ...]

    def outputs(self, split: str) -> tuple[Any, ...]:
        return self.base if split == "base" else self.plus

    def times(self, split: str) -> tuple[float, ...]:
        return self.base_time if split == "base" else self.plus_time

    def digested(self, split: str) -> frozenset[int]:
        """The inputs whose expected value is a digest: the candidate's value must be digested too."""
        return frozenset(i for i, value in enumerate(self.outputs(split)) if is_digest(value))


def _reference_values(
    task: PlusTask, split: str, result: JobResult
) -> tuple[tuple[Any, ...], tuple[float, ...]]:
    if result.status is not Status.PASSED:
        broken = next((t for t in result.tests if not t.passed), None)
        detail = broken or result
        raise ValueError(
            f"{task.task_id} ({split}): {result.status.value}: {detail.error_type}: {detail.error_message}"
        )
    if not inputs_of(task, split):
        return (), ()
    return tuple(t.value for t in result.tests), tuple(t.duration_s for t in result.tests)


class ExpectedOutputStore:
    """Expected outputs of one MBPP+ data set: computed once in the sandbox, then read from the cache."""

    def __init__(self, dataset: MbppPlusDataset, cache: str | os.PathLike[str] | None = None) -> None:
        self.dataset = dataset
        self.directory = (
            cache_dir(cache) / "mbppplus-expected" / f"{dataset.sha256}-m{marshal.version}-v{CACHE_VERSION}"
        )

    def path(self, task_id: str) -> Path:
        return self.directory / f"{task_number(task_id)}.marshal"

    def ensure(self, task_ids: list[str], sandbox: SandboxBackend | None = None, progress: bool = False) -> None:
        """Compute and cache the expected outputs of the tasks in ``task_ids`` that are not cached yet.

        The canonical solutions run in ``sandbox``, by default a pool started for them alone: expected
        values are never computed by a worker that also runs candidates.
        """
        missing = [t for t in dict.fromkeys(task_ids) if not self.path(t).is_file()]
        if not missing:
            return
        if sandbox is None:
            with Sandbox() as reference:
                self.ensure(missing, reference, progress)
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExecrlError(
                f"cannot create the cache directory {self.directory} ({exc}): set EXECRL_CACHE_DIR"
            ) from None
        tasks = [self.dataset.tasks[t] for t in missing]
        jobs = [split_job(task.reference_code, task, split, None) for task in tasks for split in SPLITS]
        weights = [len(inputs_of(task, split)) for task in tasks for split in SPLITS]
        results = run_longest_first(sandbox, jobs, weights, progress, "MBPP+ expected outputs")
        failures = []
        for i, task in enumerate(tasks):
            try:
                base, base_time = _reference_values(task, "base", results[2 * i])
                plus, plus_time = _reference_values(task, "plus", results[2 * i + 1])
            except ValueError as exc:
                failures.append(str(exc))
                continue
            record = {"base": base, "base_time": base_time, "plus": plus, "plus_time": plus_time}
            self._write(task.task_id, record)
        if failures:
            raise ExecrlError(
                f"the canonical solutions of {len(failures)} MBPP+ task(s) failed in the sandbox, so their "
                f"expected outputs cannot be computed (is the machine overloaded?): {'; '.join(failures[:5])}"
            )

    def _write(self, task_id: str, record: dict[str, tuple]) -> None:
        path = self.path(task_id)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_bytes(marshal.dumps(record))
        partial.replace(path)

    def get(self, task_id: str) -> ExpectedOutputs:
        """The task's expected outputs, read from the cache (``ensure`` first)."""
        path = self.path(task_id)
        try:
            record = marshal.loads(path.read_bytes())  # nosec B302: our own cache of plain data
        except (OSError, EOFError, ValueError, TypeError) as exc:
            raise ExecrlError(
                f"unreadable expected-output cache {path} ({exc}): delete it to recompute"
            ) from None
        return ExpectedOutputs(**record)
