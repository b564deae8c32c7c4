"""Which tasks a run trains and evaluates on."""

from __future__ import annotations

import pytest

from execrl.errors import ExecrlError
from execrl.rl.config import TasksConfig, parse_config
from execrl.rl.data import load_task_splits


def prompts(tasks) -> set[str]:
    return {task.prompt for task in tasks}


def test_builtin_runs_evaluate_on_held_out_instances_by_default() -> None:
    splits = load_task_splits(TasksConfig(train_size=128, eval_size=32))
    assert len(splits.eval) == 32 and not prompts(splits.eval) & prompts(splits.train)


def test_a_validation_set_from_the_training_split_never_touches_the_held_out_split() -> None:
    config = TasksConfig(train_size=128, eval_size=48, eval_split="train")
    validation = load_task_splits(config)
    held_out = load_task_splits(TasksConfig(train_size=128, eval_size=256))
    assert len(validation.eval) == 48
    assert not prompts(validation.eval) & prompts(validation.train)
    assert not prompts(validation.eval) & prompts(held_out.eval)
    assert [t.task_id for t in validation.train] == [t.task_id for t in held_out.train]  # same training tasks


def test_eval_split_values_are_checked_per_source() -> None:
    with pytest.raises(ExecrlError, match="heldout .* or train"):
        parse_config({"tasks": {"source": "builtin", "eval_split": "validation"}})
    with pytest.raises(ExecrlError, match="leave eval_split unset"):
        parse_config({"tasks": {"source": "robot", "eval_split": "train"}, "model": {"prompt_format": "completion"}})
