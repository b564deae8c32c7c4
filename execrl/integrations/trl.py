"""execrl's judges as reward functions for TRL's ``GRPOTrainer`` and ``RLOOTrainer``.

One reward function per judge of the reward config, with the judges' weights as TRL's
``reward_weights``: TRL then logs every judge on its own (``rewards/<judge>/mean`` and ``/std``) and its
``reward`` is execrl's total, ``sum_k weight_k * clip(normalise(R_k))``. Each function returns its
judge's score after normalisation and clipping, before the weight (the raw score when the config
neither normalises nor clips). TRL's trainers take one scalar per completion, so the per-token credit
of execrl's own trainer does not apply here.

The tests judge reads each row's ``tests`` (assert statements) and ``test_setup`` columns, which TRL
passes to reward functions as keyword arguments; ``task_dataset`` builds such a dataset from execrl
tasks. See docs/integrations/trl.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from execrl.errors import ExecrlError
from execrl.rewards import RewardConfig, RewardFormula, load_config, parse_config
from execrl.rewards.config import resolve
from execrl.tasks.types import Task

Completion = str | list[dict[str, Any]]  # standard format: the text; conversational: the assistant's messages


def completion_text(completion: Completion) -> str:
    """What the judges see: a standard completion as is, a conversational one's message contents joined."""
    if isinstance(completion, str):
        return completion
    return "".join(str(message.get("content") or "") for message in completion)


class JudgeReward:
    """One judge of a reward config as a TRL reward function (TRL logs it under its ``__name__``)."""

    def __init__(self, name: str, formula: RewardFormula, needs_tests: bool) -> None:
        self.__name__ = name
        self.formula = formula  # this judge alone, keeping its own normalisation statistics
        self.needs_tests = needs_tests

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Completion],
        tests: Sequence[Sequence[str] | None] | None = None,
        test_setup: Sequence[str | None] | None = None,
        task_id: Sequence[str | None] | None = None,
        **_: Any,  # TRL's other keyword arguments (trainer_state, log_metric, other dataset columns)
    ) -> list[float]:
        if tests is None and self.needs_tests:
            raise ExecrlError(
                f"reward function {self.__name__!r} runs tests but the dataset has no `tests` column: build it "
                "with execrl.integrations.trl.task_dataset, or add a column of assert-statement lists"
            )
        count = len(completions)
        tests = tests if tests is not None else [None] * count
        test_setup = test_setup if test_setup is not None else [""] * count
        task_id = task_id if task_id is not None else [None] * count
        candidates = [
            self.formula.candidate(completion_text(c), tests=t, test_setup=s or "", task_id=i)
            for c, t, s, i in zip(completions, tests, test_setup, task_id, strict=True)
        ]
        scored = self.formula.score_batch(candidates)
        return [b.component(self.__name__).normalized for b in scored.breakdowns]


@dataclass(frozen=True)
class TrlRewards:
    """``funcs`` for the trainer's ``reward_funcs``, ``weights`` for its config's ``reward_weights``."""

    funcs: list[JudgeReward]
    weights: list[float]

    @property
    def names(self) -> list[str]:
        return [f.__name__ for f in self.funcs]


def trl_rewards(reward: dict[str, Any] | str | os.PathLike[str] | RewardConfig | None = None) -> TrlRewards:
    """The reward functions of a reward config: inline (the training config's ``reward:``), a YAML path
    (its ``reward_config:``), a parsed ``RewardConfig``, or None for the default formula."""
    if isinstance(reward, RewardConfig):
        config = reward
    elif isinstance(reward, dict):
        config = parse_config(reward, "reward config")
    else:
        config = load_config(reward)
    funcs, weights = [], []
    for entry in resolve(config):
        alone = RewardConfig(
            max_response_chars=config.max_response_chars, judges={entry.name: config.judges[entry.name]}
        )
        funcs.append(JudgeReward(entry.name, RewardFormula(alone), needs_tests=entry.kind == "tests"))
        weights.append(entry.weight)
    return TrlRewards(funcs, weights)


def task_dataset(tasks: Sequence[Task], system_prompt: str | None = None, conversational: bool = True) -> Any:
    """A ``datasets.Dataset`` for TRL: ``prompt`` (chat messages, or the task's text when not
    ``conversational``), ``task_id``, ``tests`` and ``test_setup``."""
    try:
        from datasets import Dataset
    except ImportError as exc:
        raise ExecrlError("task_dataset needs the `datasets` package: pip install trl (it depends on it)") from exc

    def prompt(task: Task) -> Any:
        if not conversational:
            return task.prompt
        system = [{"role": "system", "content": system_prompt}] if system_prompt else []
        return [*system, {"role": "user", "content": task.prompt}]

    return Dataset.from_list(
        [
            {
                "prompt": prompt(task),
                "task_id": task.task_id,
                "tests": list(task.test_asserts),
                "test_setup": task.test_setup,
            }
            for task in tasks
        ]
    )
