"""Held-out metrics: greedy decoding, then each task's check in the sandbox.

A task with tests passes when its response passes all of them; a robot task passes when its program
(the cleaned completion, as RoboEval takes it) gets the simulator judge's full score: it runs on every
one of the task's world states without a robot-API or Python error. Robot tasks also report the
execution-failure share and the completion rate (``execrl.robot.heldout``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from execrl.models import ActorCritic, GenerationSettings, generate
from execrl.rewards import extract_code
from execrl.rl.rollout import Autocast
from execrl.robot.heldout import evaluate_programs
from execrl.robot.prompting import program_from_completion
from execrl.sandbox import AssertTests, Job, Limits, default_sandbox
from execrl.tasks.robot_gen import RobotTask
from execrl.tasks.types import Task


def heldout_metrics(
    model: ActorCritic,
    tokenizer: Any,
    tasks: Sequence[Task],
    prompt_ids: Sequence[Sequence[int]],
    settings: GenerationSettings,
    batch_size: int,
    timeout_s: float,
    autocast: Autocast,
) -> dict[str, float]:
    """``eval/pass_rate``: the fraction of ``tasks`` whose greedy response passes the task's check (see
    the module docstring); with robot tasks, also ``eval/robot_*`` (``RobotHeldOut.metrics``)."""
    if not tasks:
        return {"eval/pass_rate": float("nan")}
    responses: list[str] = []
    for start in range(0, len(tasks), batch_size):
        with autocast():
            generated = generate(model.policy, tokenizer, prompt_ids[start : start + batch_size], settings, greedy=True)
        responses += [
            tokenizer.decode(generated.response(i), skip_special_tokens=True) for i in range(len(generated.lengths))
        ]
    robot = [(text, task) for text, task in zip(responses, tasks) if isinstance(task, RobotTask)]
    tested = [(text, task) for text, task in zip(responses, tasks) if not isinstance(task, RobotTask)]
    held = None
    if robot:
        held = evaluate_programs([program_from_completion(text) for text, _ in robot], [task for _, task in robot])
    passed = (held.passed if held else 0) + _tests_passed(tested, timeout_s)
    metrics = {"eval/pass_rate": passed / len(tasks)}
    return {**metrics, **(held.metrics() if held else {})}


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
