"""RoboEval's tasks: prompts and initial world states from ``roboeval/roboeval_tasks.json``, each state
paired with its check from :mod:`execrl.robot.task_checks`.

RoboEval's licence forbids training on it: these tasks are for evaluation only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from execrl.data_dir import data_file
from execrl.errors import ExecrlError
from execrl.robot.checks import Trace
from execrl.robot.task_checks import TASK_CHECKS, Check

TASKS_FILE = "roboeval/roboeval_tasks.json"


@dataclass(frozen=True)
class TaskState:
    """One initial world state of a task: the simulator's ``state`` (plain JSON data), its check and
    whether a correct program is expected to still be running at the simulation timeout."""

    index: int
    state: dict[str, Any]
    check_name: str
    check: Check
    timeout_expected: bool

    def passes(self, trace: Trace) -> bool:
        return self.check(trace)


@dataclass(frozen=True)
class RoboEvalTask:
    name: str
    prompts: tuple[str, ...]
    states: tuple[TaskState, ...]


def _task(record: dict[str, Any]) -> RoboEvalTask:
    name = record["name"]
    checks = TASK_CHECKS.get(name)
    if checks is None:
        raise ExecrlError(f"{TASKS_FILE}: task {name!r} has no checks in execrl.robot.task_checks")
    states = []
    for test in record["tests"]:
        check = checks.get(test["check_function"])
        if check is None:
            raise ExecrlError(
                f"{TASKS_FILE}: {name} state {test['test_index']} names unknown check {test['check_function']!r}"
            )
        states.append(
            TaskState(
                index=int(test["test_index"]),
                state=test["initial_state"],
                check_name=test["check_function"],
                check=check,
                timeout_expected=bool(test["timeout_expected"]),
            )
        )
    return RoboEvalTask(name=name, prompts=tuple(record["prompts"]), states=tuple(states))


def load_tasks(data_dir: str | os.PathLike[str] | None = None) -> dict[str, RoboEvalTask]:
    """The 16 tasks by name, in file order."""
    path = data_file(TASKS_FILE, data_dir)
    try:
        records = json.loads(path.read_text(encoding="utf-8"))["tasks"]
        return {task.name: task for task in map(_task, records)}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ExecrlError(
            f"{path} is not a RoboEval tasks file ({exc!r}); see shared/data/README.md"
        ) from None
