"""Which tasks the trainer sees, in a seeded order that a single integer position can resume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from execrl.errors import ExecrlError
from execrl.rl.config import TasksConfig
from execrl.tasks.types import Task


@dataclass(frozen=True)
class TaskSplits:
    train: list[Task]
    eval: list[Task]


def load_task_splits(config: TasksConfig) -> TaskSplits:
    """Training and held-out tasks from the configured source."""
    if config.source == "builtin":
        from execrl.tasks.builtin import generate_python_tasks

        levels = list(config.levels)
        train = generate_python_tasks(config.train_size or 256, seed=config.seed, levels=levels, split="train")
        if config.eval_split == "train":
            return TaskSplits(train, _unseen_train_tasks(train, config.eval_size or 16, config.seed, levels))
        held = generate_python_tasks(config.eval_size or 16, seed=config.seed, levels=levels, split="heldout")
        return TaskSplits(train, held)
    if config.source == "robot":
        return _robot_splits(config)
    from execrl.tasks.mbpp import load_mbpp

    train = load_mbpp(config.data_dir, split=config.split)[: config.train_size]
    held = load_mbpp(config.data_dir, split=config.eval_split or "validation")[: config.eval_size]
    if config.show_tests:
        train, held = _with_tests(train, config.show_tests), _with_tests(held, config.show_tests)
    return TaskSplits(train, held)


def _unseen_train_tasks(train: Sequence[Task], count: int, seed: int, levels: list[int]) -> list[Task]:
    """``count`` training-split tasks that are not among ``train``: a validation set for tuning, which
    keeps the held-out split unseen by every choice made on it."""
    from execrl.tasks.builtin import generate_python_tasks

    seen = {task.prompt for task in train}
    # Drawn from another seed; enough candidates that the set stays full even if many recur.
    candidates = generate_python_tasks(count + len(seen), seed=seed + 7919, levels=levels, split="train")
    unseen = [task for task in candidates if task.prompt not in seen][:count]
    if len(unseen) < count:
        raise ExecrlError(f"only {len(unseen)} training-split tasks are not among the {len(seen)} training tasks")
    return unseen


def _robot_splits(config: TasksConfig) -> TaskSplits:
    """Robot tasks from a task file or generated; held-out ones generated from the next seed, none of
    them with a training instruction. Prompts become RoboEval-style completion prompts."""
    from execrl.robot.prompting import build_prompt
    from execrl.tasks.robot_gen import RobotTask, generate_robot_tasks

    if config.file is not None:
        from execrl.tasks.task_file import read_tasks

        train = read_tasks(config.file)[: config.train_size]
        if not all(isinstance(task, RobotTask) for task in train):
            raise ExecrlError(f"{config.file} holds non-robot tasks: write it with `execrl tasks robot`")
    else:
        train = generate_robot_tasks(config.train_size or 256, seed=config.seed)
    seen = {task.prompt for task in train}
    # Enough candidates that the held-out set stays full even if every training instruction recurs.
    candidates = generate_robot_tasks((config.eval_size or 16) + len(seen), seed=config.seed + 1)
    held = [task for task in candidates if task.prompt not in seen][: config.eval_size or 16]
    return TaskSplits(
        [replace(task, prompt=build_prompt(task.prompt)) for task in train],
        [replace(task, prompt=build_prompt(task.prompt)) for task in held],
    )


def _with_tests(tasks: Sequence[Task], count: int) -> list[Task]:
    """MBPP's usual prompt: the problem, then some of its asserts so the model knows the signature."""
    shown = []
    for task in tasks:
        tests = "\n".join(task.test_asserts[:count])
        shown.append(replace(task, prompt=f"{task.prompt}\nYour code should pass these tests:\n{tests}"))
    return shown


class TaskStream:
    """Tasks in epochs, each a fresh permutation drawn from ``seed`` and the epoch number.

    ``position`` counts the tasks handed out so far; it is all a checkpoint needs to resume the order.
    """

    def __init__(self, tasks: Sequence[Task], seed: int, position: int = 0) -> None:
        if not tasks:
            raise ExecrlError("no training tasks: check the tasks section of the config")
        self.tasks = list(tasks)
        self.seed = seed
        self.position = position

    def _order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.tasks))

    def take(self, count: int) -> list[Task]:
        out = []
        for _ in range(count):
            epoch, index = divmod(self.position, len(self.tasks))
            out.append(self.tasks[int(self._order(epoch)[index])])
            self.position += 1
        return out
