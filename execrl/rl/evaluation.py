"""Held-out evaluation during training: greedy responses to the held-out tasks, and what they are worth.

A task with tests passes when its response passes all of them in the sandbox; a robot task passes when
its program (the cleaned completion, as RoboEval takes it) gets the simulator judge's full score: it
runs on every one of the task's world states without a robot-API or Python error. Beside the pass rate:
the training reward of those greedy responses (the run's own formula), for Python code the
syntax-error rate and Ruff findings per compiling program (``execrl.rewards.code_quality``), and for
robot programs the execution-failure share and the completion rate (``execrl.robot.heldout``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from execrl.engines import RolloutEngine
from execrl.models import GenerationSettings
from execrl.rewards import extract_code
from execrl.rewards.code_quality import code_quality
from execrl.robot.heldout import RobotHeldOut, evaluate_programs
from execrl.robot.prompting import program_from_completion
from execrl.sandbox import AssertTests, Job, Limits, default_sandbox
from execrl.tasks.robot_gen import RobotTask
from execrl.tasks.types import Task

Judge = Callable[[list[Task], list[list[int]]], Any]  # Trainer.judge: tasks, response ids -> JudgedBatch


@dataclass(frozen=True)
class HeldOutEval:
    """One evaluation of the policy on the held-out tasks (greedy decoding)."""

    tasks: int
    pass_rate: float
    mean_reward: float  # the run's reward formula on the greedy responses
    syntax_error_rate: float | None  # Python tasks only
    ruff_findings_per_program: float | None  # over the Python responses that compile
    wall_s: float
    robot: RobotHeldOut | None = None  # robot tasks' execution failures and completion

    def metrics(self) -> dict[str, float]:
        """The ``eval/...`` entries of a metrics record (NaN where a metric does not apply)."""

        def value(x: float | None) -> float:
            return float("nan") if x is None else float(x)

        return {
            "eval/tasks": float(self.tasks),
            "eval/pass_rate": self.pass_rate,
            "eval/mean_reward": self.mean_reward,
            "eval/syntax_error_rate": value(self.syntax_error_rate),
            "eval/ruff_findings_per_program": value(self.ruff_findings_per_program),
            "eval/wall_s": self.wall_s,
            **(self.robot.metrics() if self.robot is not None else {}),
        }


def evaluate_held_out(
    engine: RolloutEngine,
    tokenizer: Any,
    tasks: Sequence[Task],
    prompt_ids: Sequence[Sequence[int]],
    settings: GenerationSettings,
    batch_size: int,
    timeout_s: float,
    judge: Judge,
) -> HeldOutEval:
    """Greedy responses to ``tasks`` from the engine's current weights, checked and judged."""
    started = time.perf_counter()
    responses: list[list[int]] = []
    for start in range(0, len(tasks), batch_size):
        generated = engine.generate(prompt_ids[start : start + batch_size], 1, settings, greedy=True)
        responses += [generated.response(i) for i in range(len(generated.lengths))]
    texts = [tokenizer.decode(ids, skip_special_tokens=True) for ids in responses]
    judged = judge(list(tasks), responses)
    robot = [(text, task) for text, task in zip(texts, tasks) if isinstance(task, RobotTask)]
    tested = [(text, task) for text, task in zip(texts, tasks) if not isinstance(task, RobotTask)]
    held = None
    if robot:
        held = evaluate_programs([program_from_completion(text) for text, _ in robot], [task for _, task in robot])
    passed = (held.passed if held else 0) + _tests_passed(tested, timeout_s)
    quality = code_quality([text for text, _ in tested]) if tested else {}
    return HeldOutEval(
        tasks=len(tasks),
        pass_rate=passed / len(tasks) if tasks else math.nan,
        mean_reward=math.fsum(judged.totals) / len(tasks) if tasks else math.nan,
        syntax_error_rate=quality.get("syntax error rate"),
        ruff_findings_per_program=quality.get("ruff findings per program"),
        wall_s=time.perf_counter() - started,
        robot=held,
    )


def _tests_passed(pairs: Sequence[tuple[str, Task]], timeout_s: float) -> int:
    jobs = [
        Job(
            code=extract_code(text).code,
            tests=AssertTests(task.test_asserts, setup=task.test_setup),
            limits=Limits(timeout_s=timeout_s),
        )
        for text, task in pairs
    ]
    return sum(r.passed for r in default_sandbox().run(jobs)) if jobs else 0
