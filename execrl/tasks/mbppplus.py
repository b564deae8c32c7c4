"""Loader for MBPP+ (EvalPlus, data v0.2.0: ``mbppplus/MbppPlus-v0.2.0.jsonl``, 378 tasks)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from execrl.tasks.locate import locate_data_file
from execrl.tasks.mbppplus_fixups import fix_inputs
from execrl.tasks.types import PlusTask

MBPPPLUS_FILE = "mbppplus/MbppPlus-v0.2.0.jsonl"


@dataclass(frozen=True, eq=False)
class MbppPlusDataset:
    """The MBPP+ tasks by id (file order) and the data file's fingerprints.

    ``sha256`` keys execrl's expected-output cache; ``md5`` is what EvalPlus writes as ``hash``.
    """

    tasks: dict[str, PlusTask]
    sha256: str
    md5: str


def task_number(task_id: str) -> int:
    """``Mbpp/123`` -> 123."""
    return int(task_id.rsplit("/", 1)[-1])


def _task(record: dict) -> PlusTask:
    number = task_number(record["task_id"])
    return PlusTask(
        task_id=record["task_id"],
        prompt=record["prompt"],
        entry_point=record["entry_point"],
        canonical_solution=record["canonical_solution"],
        test_asserts=tuple(line for line in record.get("assertion", "").splitlines() if line.strip()),
        base_inputs=fix_inputs(number, record["base_input"]),
        plus_inputs=fix_inputs(number, record["plus_input"]),
        atol=float(record["atol"]),
    )


def load_mbppplus(data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> MbppPlusDataset:
    """All MBPP+ tasks with EvalPlus's input fix-ups applied."""
    raw = locate_data_file(MBPPPLUS_FILE, data_dir, download).read_bytes()
    records = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    return MbppPlusDataset(
        tasks={r["task_id"]: _task(r) for r in records},
        sha256=hashlib.sha256(raw).hexdigest(),
        md5=hashlib.md5(raw).hexdigest(),  # nosec B324: EvalPlus's dataset hash, not security
    )
