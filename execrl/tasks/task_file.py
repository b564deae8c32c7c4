"""Task files: generated tasks as JSON lines, written once and read back by training runs.

Each line is one task with a ``kind`` ("python" for a plain :class:`Task`, "robot" for a
:class:`RobotTask` with its world states), so one reader serves every generator.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from execrl.errors import ExecrlError
from execrl.tasks.robot_gen.task import RobotTask, WorldState
from execrl.tasks.types import Task

_TUPLE_FIELDS = ("test_asserts", "challenge_asserts")


def _record(task: Task) -> dict[str, Any]:
    if isinstance(task, RobotTask):
        return {"kind": "robot", **asdict(task), "states": [world.to_data() for world in task.states]}
    if type(task) is Task:
        return {"kind": "python", **asdict(task)}
    raise TypeError(f"cannot write a {type(task).__name__} to a task file")


def write_tasks(path: str | os.PathLike[str], tasks: Iterable[Task]) -> int:
    """Write ``tasks`` to ``path`` (one JSON object per line); returns how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for task in tasks:
            handle.write(json.dumps(_record(task), ensure_ascii=False) + "\n")
            count += 1
    return count


def _task(record: dict[str, Any]) -> Task:
    kind = record.pop("kind")
    for name in _TUPLE_FIELDS:
        record[name] = tuple(record.get(name, ()))
    if kind == "python":
        cls: type[Task] = Task
    elif kind == "robot":
        cls = RobotTask
        record["states"] = tuple(WorldState.from_data(state) for state in record.get("states", ()))
    else:
        raise ValueError(f"unknown task kind {kind!r}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(record) - known)
    if unknown:
        raise ValueError(f"unknown fields {unknown}")
    return cls(**record)


def read_tasks(path: str | os.PathLike[str]) -> list[Task]:
    """The tasks of a task file, in order; an ``ExecrlError`` naming the line if one is malformed."""
    path = Path(path)
    if not path.is_file():
        raise ExecrlError(f"task file {path} does not exist: create it with `execrl tasks robot|python --out {path}`")
    tasks = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                tasks.append(_task(json.loads(line)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ExecrlError(f"{path}:{number}: not a task record ({exc})") from None
    return tasks
